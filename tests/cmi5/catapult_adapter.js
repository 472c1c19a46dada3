/*
    The adapter ADL's CATAPULT LMS test suite (adlnet/CATAPULT, lts/) drives this service through:
    CATAPULT_LMS=/abs/path/to/this/file. It talks to a running `lrs serve` through its admin APIs
    (import a course, make a cmi5 launch link, waive an AU, abandon a session).

    Environment: LRS_URL (the main origin, default http://127.0.0.1:8080), LRS_KEY and LRS_SECRET
    (a credential with the `all` scope). Requests go through the suite's own @hapi/wreck; its errors module
    is loaded from the suite's lib folder, since its tests check `instanceof InvalidPackageError`.
*/
"use strict";

const path = require("path"),
    crypto = require("crypto"),
    Wreck = require(path.join(process.cwd(), "node_modules", "@hapi", "wreck")),
    {InvalidPackageError} = require(path.join(process.cwd(), "lib", "errors"));

const base = (process.env.LRS_URL || "http://127.0.0.1:8080").replace(/\/$/, ""),
    auth = "Basic " + Buffer.from(`${process.env.LRS_KEY || "catapult"}:${process.env.LRS_SECRET || "catapult"}`).toString("base64");

const call = async (method, url, body, headers = {}) => {
    const response = await Wreck.request(method, base + url, {headers: {Authorization: auth, ...headers}, payload: body});
    const text = (await Wreck.read(response)).toString();
    let json = null;
    try {
        json = text ? JSON.parse(text) : null;
    }
    catch (ex) {
        json = null;
    }
    return {status: response.statusCode, json, text};
};

const readAll = (stream) => new Promise((resolve, reject) => {
    const chunks = [];
    stream.on("data", (c) => chunks.push(c));
    stream.on("end", () => resolve(Buffer.concat(chunks)));
    stream.on("error", reject);
});

module.exports = {
    setup: async () => {},
    teardown: async () => {},
    cleanup: async () => {},

    getLrsEndpoint: () => `${base}/xapi`,
    getLrsAuthHeader: () => auth,

    importCourse: async (stream, contentType, filename) => {
        const body = await readAll(stream);
        const r = await call("POST", "/content/packages", body, {"Content-Type": contentType});
        if (r.status === 200 || r.status === 201) {
            return r.json.course.id;
        }
        if (r.status >= 400 && r.status < 500 && r.status !== 401 && r.status !== 403) {
            const rules = ((r.json && r.json.error && r.json.error.report && r.json.error.report.errors) || [])
                .map((e) => e.rule).join(", ");
            throw new InvalidPackageError(`${filename} refused (${r.status}): ${r.json && r.json.error ? r.json.error.message : r.text} ${rules}`);
        }
        throw new Error(`import of ${filename} failed: ${r.status} ${r.text}`);
    },

    getLaunchUrl: async (courseId, auIndex, actor, {registration, launchMode} = {}) => {
        const body = {learner: actor, course_id: courseId, au: auIndex,
            registration: registration || crypto.randomUUID()};
        if (launchMode) {
            body.launch_mode = launchMode;
        }
        const r = await call("POST", "/player/cmi5/launches", JSON.stringify(body), {"Content-Type": "application/json"});
        if (r.status !== 201) {
            throw new Error(`launch failed: ${r.status} ${r.text}`);
        }
        return r.json.launch_url;
    },

    hasWaive: () => true,
    waiveAU: async (registration, auIndex, reason) => {
        const r = await call("POST", `/player/cmi5/registrations/${registration}/waive`,
            JSON.stringify({au: auIndex, reason}), {"Content-Type": "application/json"});
        if (r.status !== 201) {
            throw new Error(`waive failed: ${r.status} ${r.text}`);
        }
    },

    hasAbandon: () => true,
    abandonSession: async (sessionId) => {
        const r = await call("POST", `/player/cmi5/sessions/${sessionId}/abandon`);
        if (r.status !== 204) {
            throw new Error(`abandon failed: ${r.status} ${r.text}`);
        }
    }
};
