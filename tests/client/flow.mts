// The main mobile flow as a generated client sees it: types from the
// committed spec (openapi-typescript), calls through openapi-fetch. It
// compiles under --strict with no casts, and runs against a real server
// (scripts/client-check.sh): if the spec and the server drift apart, either
// the compiler or this run fails.
import createClient from "openapi-fetch";
import type { components, paths } from "./schema.js";

type Problem = components["schemas"]["Problem"];
type TripRequest = components["schemas"]["TripRequest"];

const base = process.env.TANPUHUI_URL;
if (!base) {
  throw new Error("set TANPUHUI_URL to the server's address");
}
const api = createClient<paths>({ baseUrl: base });

function fail(what: string, problem: Problem | undefined): never {
  throw new Error(`${what}: ${problem ? `${problem.status} ${problem.code}: ${problem.detail}` : "no body"}`);
}

function check(condition: boolean, what: string): void {
  if (!condition) {
    throw new Error(what);
  }
}

const email = `client-${Date.now()}@example.cn`;
const password = "a long passphrase";

const registered = await api.POST("/api/v1/auth/register", { body: { email, password } });
if (!registered.data) fail("register", registered.error);

const login = await api.POST("/api/v1/auth/login", { body: { login: email, password } });
if (!login.data) fail("login", login.error);
const tokens = login.data;
check(tokens.token_type === "Bearer" && tokens.expires_in > 0, "a bearer pair");
const auth = { Authorization: `Bearer ${tokens.access_token}` };

const me = await api.GET("/api/v1/me", { headers: auth });
if (!me.data) fail("me", me.error);
const accountId: string | null | undefined = me.data.account_id;
check(typeof accountId === "string", "a personal account");

// The estimate the phone would show, typed request and answer.
const estimate = await api.POST("/api/v1/estimates/commute", {
  body: { preset: "wuhan-2024", legs: [{ mode: "metro", distance_km: "7.35" }, { mode: "bus" }] },
});
if (!estimate.data) fail("estimate", estimate.error);
const creditedPreview: string = estimate.data.credited_g;
check(creditedPreview === "789", `estimate credited_g ${creditedPreview}`);
check(estimate.data.legs.length === 2 && estimate.data.legs[1].unit === "g_per_trip", "per-leg detail");

// A trip with a GPS trace, an hour ago.
const start = new Date(Date.now() - 60 * 60 * 1000);
const minutes = 30;
const trace: components["schemas"]["TracePoint"][] = [];
for (let i = 0; i <= 30; i++) {
  trace.push({
    lat: 36.5 + (0.072 * i) / 30,
    lon: 103.68,
    t: new Date(start.getTime() + (minutes * 60 * 1000 * i) / 30).toISOString(),
  });
}
const trip: TripRequest = {
  client_trip_id: crypto.randomUUID(),
  preset: "wuhan-2024",
  legs: [{ mode: "metro", distance_km: "7.35" }, { mode: "bus" }],
  started_at: start.toISOString(),
  ended_at: new Date(start.getTime() + minutes * 60 * 1000).toISOString(),
  trace,
};
const logged = await api.POST("/api/v1/trips", { body: trip, headers: auth });
if (!logged.data) fail("log a trip", logged.error);
const status: components["schemas"]["TripStatus"] = logged.data.status;
check(status === "credited", `trip ${status}: ${logged.data.reasons.join(", ")}`);
check(logged.data.credited_g === creditedPreview, "the server credits what the phone estimated");

// Resending is safe: the first result, not a second credit.
const again = await api.POST("/api/v1/trips", { body: trip, headers: auth });
if (!again.data) fail("resend the trip", again.error);
check(again.response.status === 200 && again.data.id === logged.data.id, "a resend answers the first trip");

// A bad trip: the problem document is typed too.
const bad = await api.POST("/api/v1/trips", {
  body: { ...trip, client_trip_id: crypto.randomUUID(), legs: [{ mode: "rocket", distance_km: "1" }] },
  headers: auth,
});
if (bad.data) throw new Error("a rocket trip was accepted");
const problem: Problem | undefined = bad.error;
check(problem !== undefined && problem.code === "unknown_mode" && problem.param === "legs[0].mode", "a problem naming the field");

// History and balance, paged.
const page = await api.GET("/api/v1/trips", { params: { query: { limit: 10 } }, headers: auth });
if (!page.data) fail("list trips", page.error);
check(page.data.data.length === 1 && !page.data.has_more, "one trip, one page");
if (typeof accountId === "string") {
  const balances = await api.GET("/api/v1/accounts/{id}/balances", {
    params: { path: { id: accountId } },
    headers: auth,
  });
  if (!balances.data) fail("balances", balances.error);
  const points = balances.data.balances.find((b) => b.asset === "points");
  check(points !== undefined && points.posted === creditedPreview, "points as credited");
}

// Refresh, then sign out.
const refreshed = await api.POST("/api/v1/auth/refresh", { body: { refresh_token: tokens.refresh_token } });
if (!refreshed.data) fail("refresh", refreshed.error);
const out = await api.POST("/api/v1/auth/logout", { body: { refresh_token: refreshed.data.refresh_token } });
check(out.response.status === 204, "signed out");

console.log("typed client flow: ok");
