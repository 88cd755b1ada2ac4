"""The project's configuration: settings, the URL, ASGI and WSGI roots and the one NinjaAPI. It composes the
apps; nothing imports it but the entry points."""
