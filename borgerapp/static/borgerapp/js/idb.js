// IndexedDB, the one way the app reaches it: a database opened once for the page's life (opening one
// costs a round trip to the browser each time), its stores read and written in transactions, and the
// database deleted. A database deleted by this page is closed for good first, so nothing in the page
// opens (and so makes) it again after the login it held has ended.
const opened = new Map();

export class Database {
  // ``upgrade(database, oldVersion)`` makes the stores when the database is new or older than ``version``.
  constructor(name, version, upgrade) {
    this.name = name;
    this.version = version;
    this.upgrade = upgrade;
    this.connection = null;
    this.isClosed = false;
    opened.set(name, this);
  }

  open() {
    if (this.isClosed) {
      return Promise.reject(new Error(`The database ${this.name} is closed: the login has ended.`));
    }
    if (!this.connection) {
      const connection = new Promise((resolve, reject) => {
        const request = indexedDB.open(this.name, this.version);
        request.onupgradeneeded = (event) => this.upgrade(request.result, event.oldVersion);
        request.onsuccess = () => {
          const database = request.result;
          // Deleted or changed by a newer version of the app (in this tab or another): let it go.
          database.onversionchange = () => {
            database.close();
            this.forget(connection);
          };
          database.onclose = () => this.forget(connection);
          resolve(database);
        };
        request.onerror = () => {
          this.forget(connection);
          reject(request.error);
        };
      });
      this.connection = connection;
    }
    return this.connection;
  }

  forget(connection) {
    if (this.connection === connection) {
      this.connection = null;
    }
  }

  // One transaction over ``stores`` (a name or a list): ``work(transaction)`` starts the requests; the
  // answer is the result of the request it returns, or what else it returns, once the transaction is
  // complete (so everything in it is stored).
  async run(stores, mode, work) {
    const database = await this.open();
    return new Promise((resolve, reject) => {
      const transaction = database.transaction(stores, mode);
      const result = work(transaction);
      transaction.oncomplete = () => resolve(result instanceof IDBRequest ? result.result : result);
      transaction.onerror = () => reject(transaction.error);
      transaction.onabort = () => reject(transaction.error || new Error("The transaction was aborted."));
    });
  }

  get(store, key) {
    return this.run(store, "readonly", (transaction) => transaction.objectStore(store).get(key));
  }

  getAll(store, query) {
    return this.run(store, "readonly", (transaction) => transaction.objectStore(store).getAll(query));
  }

  put(store, value, key) {
    return this.run(store, "readwrite", (transaction) => transaction.objectStore(store).put(value, key));
  }

  delete(store, key) {
    return this.run(store, "readwrite", (transaction) => transaction.objectStore(store).delete(key));
  }

  clear(...stores) {
    return this.run(stores, "readwrite", (transaction) => {
      stores.forEach((store) => transaction.objectStore(store).clear());
    });
  }

  // Closed for good: what the page still tries to read or write fails, and nothing makes it again.
  async close() {
    this.isClosed = true;
    const connection = this.connection;
    this.connection = null;
    const database = connection ? await connection.catch(() => null) : null;
    if (database) {
      database.close();
    }
  }
}

// Deletes the database, after closing this page's connection to it for good. Answers once it is gone,
// or once the browser has taken the deletion on while another tab still holds the database open (it is
// deleted when that tab lets go, which the app's tabs do at once).
export async function deleteDatabase(name) {
  const database = opened.get(name);
  if (database) {
    await database.close();
  }
  return new Promise((resolve) => {
    const request = indexedDB.deleteDatabase(name);
    request.onsuccess = request.onerror = request.onblocked = () => resolve();
  });
}
