// The login page: whoever logs in next, the data of an earlier login is not shown to them.
import { forgetLogin } from "./session.js";

forgetLogin();
