// Cloudlet's Node.js runtime: a small client of Lambda's Runtime API. Loads the handler once
// (CommonJS or ES module), then serves invocations; async handlers and callback handlers.
// console.* lines are written as AWS's Node.js runtime writes them:
// "<ISO time>\t<request id>\tINFO\t<message>".
"use strict";
const http = require("http");
const path = require("path");
const fs = require("fs");
const util = require("util");
const url = require("url");

const [host, port] = process.env.AWS_LAMBDA_RUNTIME_API.split(":");
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
const BASE = "/2018-06-01/runtime";
let currentRequestId = undefined;

function request(method, p, body, headers) {
  return new Promise((resolve, reject) => {
    const data = body === undefined ? undefined : Buffer.from(body);
    const h = Object.assign({}, headers || {});
    if (data) h["Content-Length"] = data.length;
    const req = http.request({ host, port, method, path: BASE + p, agent, headers: h }, (res) => {
      const chunks = [];
      res.on("data", (c) => chunks.push(c));
      res.on("end", () => resolve({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on("error", reject);
    if (data) req.write(data);
    req.end();
  });
}

function patchConsole() {
  const write = (level) => (...args) => {
    const msg = util.format(...args).replace(/\n/g, "\r");
    process.stdout.write(`${new Date().toISOString()}\t${currentRequestId || "undefined"}\t${level}\t${msg}\n`);
  };
  console.log = write("INFO");
  console.info = write("INFO");
  console.warn = write("WARN");
  console.error = write("ERROR");
  console.debug = write("DEBUG");
  console.trace = write("TRACE");
}

function errorJSON(err, type) {
  if (err instanceof Error) {
    return {
      errorType: type || err.name || "Error",
      errorMessage: err.message,
      trace: (err.stack || "").split("\n"),
    };
  }
  return { errorType: type || typeof err, errorMessage: String(err), trace: [] };
}

class Fault extends Error {
  constructor(type, message) {
    super(message);
    this.name = type;
  }
}

async function loadHandler() {
  const taskRoot = process.env.LAMBDA_TASK_ROOT || "/var/task";
  const handler = process.env._HANDLER || "";
  const dot = handler.lastIndexOf(".");
  if (dot < 0) throw new Fault("Runtime.MalformedHandlerName", "Bad handler");
  const moduleName = handler.slice(0, dot);
  const fnPath = handler.slice(dot + 1).split(".");
  const base = path.resolve(taskRoot, moduleName);
  let mod;
  const candidates = [[".js", null], [".mjs", "esm"], [".cjs", "cjs"]];
  let found = null;
  for (const [ext, kind] of candidates) {
    if (fs.existsSync(base + ext)) { found = [base + ext, kind]; break; }
  }
  try {
    if (!found) {
      // AWS's runtime also tries a package of that name
      const err = new Error(`Cannot find module '${moduleName}'\nRequire stack:\n- ${__filename}`);
      err.code = "MODULE_NOT_FOUND";
      throw err;
    }
    const [file, kind] = found;
    if (kind === "esm" || (kind === null && isModulePackage(path.dirname(file)))) {
      mod = await import(url.pathToFileURL(file).href);
    } else {
      mod = require(file);
    }
  } catch (e) {
    if (e instanceof SyntaxError) throw new Fault("Runtime.UserCodeSyntaxError", `${e.name}: ${e.message}`);
    if (e && (e.code === "MODULE_NOT_FOUND" || e.code === "ERR_MODULE_NOT_FOUND")) {
      throw new Fault("Runtime.ImportModuleError", `Error: ${e.message}`);
    }
    throw e;
  }
  let fn = mod;
  for (const part of fnPath) fn = fn == null ? undefined : fn[part];
  if (typeof fn !== "function") {
    throw new Fault("Runtime.HandlerNotFound", `${handler} is undefined or not exported`);
  }
  return fn;
}

function isModulePackage(dir) {
  for (let d = dir; ; d = path.dirname(d)) {
    const pkg = path.join(d, "package.json");
    if (fs.existsSync(pkg)) {
      try { return JSON.parse(fs.readFileSync(pkg, "utf8")).type === "module"; } catch { return false; }
    }
    if (path.dirname(d) === d) return false;
  }
}

function makeContext(headers) {
  const deadline = Number(headers["lambda-runtime-deadline-ms"] || 0);
  const cc = headers["lambda-runtime-client-context"];
  const ci = headers["lambda-runtime-cognito-identity"];
  return {
    callbackWaitsForEmptyEventLoop: true,
    functionName: process.env.AWS_LAMBDA_FUNCTION_NAME,
    functionVersion: process.env.AWS_LAMBDA_FUNCTION_VERSION,
    invokedFunctionArn: headers["lambda-runtime-invoked-function-arn"],
    memoryLimitInMB: process.env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
    awsRequestId: headers["lambda-runtime-aws-request-id"],
    logGroupName: process.env.AWS_LAMBDA_LOG_GROUP_NAME,
    logStreamName: process.env.AWS_LAMBDA_LOG_STREAM_NAME,
    clientContext: cc ? JSON.parse(cc) : undefined,
    identity: ci ? JSON.parse(ci) : undefined,
    getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
  };
}

function runHandler(fn, event, context) {
  return new Promise((resolve, reject) => {
    let settled = false;
    const callback = (err, result) => {
      if (settled) return;
      settled = true;
      if (err !== null && err !== undefined) reject(err); else resolve(result);
    };
    context.done = callback;
    context.succeed = (r) => callback(null, r);
    context.fail = (e) => callback(e === undefined ? "handled" : e);
    try {
      const out = fn(event, context, callback);
      if (out && typeof out.then === "function") out.then((r) => callback(null, r), (e) => callback(e));
      else if (fn.length < 3) callback(null, out);
    } catch (e) {
      callback(e);
    }
  });
}

async function postError(p, err, type) {
  const body = JSON.stringify(errorJSON(err, type));
  await request("POST", p, body, { "Lambda-Runtime-Function-Error-Type": type || (err && err.name) || "Error", "Content-Type": "application/json" });
}

function logError(err, requestId, type, label) {
  const e = errorJSON(err, type);
  const logged = { errorType: e.errorType, errorMessage: e.errorMessage, stack: e.trace };
  process.stdout.write(`${new Date().toISOString()}\t${requestId || "undefined"}\tERROR\t${label} \t${JSON.stringify(logged)}\n`);
}

async function main() {
  patchConsole();
  let fn;
  try {
    fn = await loadHandler();
  } catch (e) {
    const type = e instanceof Fault ? e.name : (e && e.name) || "Error";
    logError(e, undefined, type, "Uncaught Exception");
    await postError("/init/error", e, type);
    process.exit(1);
  }
  for (;;) {
    const next = await request("GET", "/invocation/next");
    if (next.status !== 200) process.exit(1);
    const id = next.headers["lambda-runtime-aws-request-id"];
    currentRequestId = id;
    if (next.headers["lambda-runtime-trace-id"]) process.env._X_AMZN_TRACE_ID = next.headers["lambda-runtime-trace-id"];
    let result, failed = null;
    try {
      const event = next.body.length ? JSON.parse(next.body.toString("utf8")) : {};
      result = await runHandler(fn, event, makeContext(next.headers));
    } catch (e) {
      failed = e;
    }
    if (failed === null) {
      const body = result === undefined ? "null" : JSON.stringify(result);
      await request("POST", `/invocation/${id}/response`, body === undefined ? "null" : body);
    } else {
      logError(failed, id, undefined, "Invoke Error");
      await postError(`/invocation/${id}/error`, failed);
    }
  }
}

main();
