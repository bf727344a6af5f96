// The example single-page app: sign in with the user pool's hosted UI (the OAuth 2.0
// authorization code grant with PKCE, RFC 7636, S256), show who signed in, then call every
// route of the API with and without the user's token.
//
// Everything it needs comes from /config.json (served by `jwt-scoped sandbox --web`, or written
// from a deployed stack's outputs) and the pool's OpenID Connect discovery document. No library,
// no build step. Tokens live in sessionStorage only (gone when the tab closes); nothing from a
// server is inserted into the page as HTML (textContent only).
"use strict";

// sessionStorage keys.
const PENDING = "jwt-scoped.pending";  // {verifier, state, nonce} of a sign-in under way
const TOKENS = "jwt-scoped.tokens";    // the token endpoint's answer
const FORCE_LOGIN = "jwt-scoped.prompt-login";  // signed out locally: ask for a password again

const $ = (id) => document.getElementById(id);

// ---- small helpers ----------------------------------------------------------------------

/** An error whose message is meant for the user as it is. */
class AppError extends Error {}

/** base64url without padding (RFC 4648 section 5) of some bytes. */
function base64url(bytes) {
  let binary = "";
  for (const b of new Uint8Array(bytes)) binary += String.fromCharCode(b);
  return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A random string of URL-safe characters: 32 bytes give 43 characters, all in PKCE's
 * unreserved set ([A-Za-z0-9-._~]), so it is a valid code_verifier too. */
function randomString(byteCount = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(byteCount)));
}

/** The S256 code_challenge of a code_verifier: base64url(SHA-256(ASCII(verifier))). */
async function s256(verifier) {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
  return base64url(digest);
}

/** A JWT's payload, decoded but NOT verified. The app only reads its own tokens, received
 * straight from the token endpoint (OpenID Connect Core 3.1.3.7 allows skipping the signature
 * check then); the API checks every token it is sent. */
function jwtPayload(token) {
  const part = String(token).split(".")[1];
  if (!part) throw new AppError("The token endpoint returned a token that is not a JWT.");
  const base64 = part.replace(/-/g, "+").replace(/_/g, "/");
  const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
  return JSON.parse(new TextDecoder().decode(bytes));
}

async function getJson(url, what) {
  let response;
  try {
    response = await fetch(url, { cache: "no-store" });
  } catch (error) {
    throw new AppError(`Could not fetch ${what} (${url}): ${error.message}`);
  }
  if (!response.ok) throw new AppError(`Could not fetch ${what} (${url}): HTTP ${response.status}`);
  return response.json();
}

/** The auth-params of a www-authenticate challenge (RFC 9110 11.6.1), e.g.
 * Bearer scope="" error="invalid_token" error_description="the Authorization header is missing"
 * -> {scope: "", error: "invalid_token", error_description: "..."}. */
function challengeParams(header) {
  const params = {};
  const pattern = /([A-Za-z0-9_-]+)\s*=\s*(?:"((?:[^"\\]|\\.)*)"|([^\s,"]+))/g;
  for (const match of header.matchAll(pattern)) {
    params[match[1].toLowerCase()] = match[2] !== undefined
      ? match[2].replace(/\\(.)/g, "$1") : match[3];
  }
  return params;
}

/** Why a request was refused, in words: the challenge's error_description, else its error,
 * else the whole header. */
function reasonOf(header) {
  if (!header) return "";
  const params = challengeParams(header);
  return params.error_description || params.error || header;
}

function form(fields) {
  return { method: "POST", body: new URLSearchParams(fields),
           headers: { "Content-Type": "application/x-www-form-urlencoded" } };
}

function readSession(key) {
  try {
    return JSON.parse(sessionStorage.getItem(key));
  } catch {
    return null;
  }
}

// ---- the page -----------------------------------------------------------------------------

function setState(state, status) {
  document.body.dataset.state = state;
  $("status").textContent = status;
}

function clearError() {
  $("error").textContent = "";
  $("error").hidden = true;
}

function showError(error) {
  const message = error instanceof AppError ? error.message : `Unexpected error: ${error}`;
  if (!(error instanceof AppError)) console.error(error);
  const box = $("error");
  box.textContent = message;
  box.hidden = false;
}

function show(signedIn) {
  $("signed-out").hidden = signedIn;
  $("signed-in").hidden = !signedIn;
  $("calls").hidden = !signedIn;
}

// ---- signing in ---------------------------------------------------------------------------

/** Step 1: off to the authorization endpoint with a fresh PKCE pair, state and nonce. */
async function signIn(config, discovery) {
  const pending = { verifier: randomString(), state: randomString(16), nonce: randomString(16) };
  sessionStorage.setItem(PENDING, JSON.stringify(pending));
  const url = new URL(discovery.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: "code",
    client_id: config.clientId,
    redirect_uri: config.redirectUri,
    scope: config.scopes.join(" "),
    state: pending.state,
    nonce: pending.nonce,
    code_challenge: await s256(pending.verifier),
    code_challenge_method: "S256",
  });
  // After a sign-out that could not end the hosted UI's session (no logoutUri), ask for the
  // password again instead of coming straight back as the same user.
  if (sessionStorage.getItem(FORCE_LOGIN)) url.searchParams.set("prompt", "login");
  location.assign(url.href);
}

/** Step 2, back at the redirect URI: check state, trade the code for tokens, check the nonce. */
async function finishSignIn(config, discovery, params) {
  const pending = readSession(PENDING);
  sessionStorage.removeItem(PENDING);
  // The code is single-use: take it out of the address bar (and the history) right away.
  history.replaceState(null, "", location.pathname);

  if (params.has("error")) {
    const description = params.get("error_description");
    throw new AppError(`Sign-in failed: ${params.get("error")}` +
                       (description ? ` (${description})` : ""));
  }
  if (!pending || params.get("state") !== pending.state) {
    throw new AppError("Sign-in failed: the answer's state is not the one this tab sent " +
                       "(an old or forged link?). Sign in again.");
  }
  let response, body;
  try {
    response = await fetch(discovery.token_endpoint, form({
      grant_type: "authorization_code",
      client_id: config.clientId,
      code: params.get("code"),
      redirect_uri: config.redirectUri,
      code_verifier: pending.verifier,
    }));
    body = await response.json();
  } catch (error) {
    throw new AppError(`Sign-in failed: the token endpoint could not be reached (${error.message}).`);
  }
  if (!response.ok) {
    throw new AppError(`Sign-in failed: the token endpoint answered ${response.status} ` +
                       `${body.error || ""}${body.error_description ? ` (${body.error_description})` : ""}`);
  }
  const claims = jwtPayload(body.id_token);
  if (claims.nonce !== pending.nonce) {
    throw new AppError("Sign-in failed: the ID token's nonce is not the one this tab sent.");
  }
  if (claims.iss !== discovery.issuer || ![].concat(claims.aud).includes(config.clientId)) {
    throw new AppError("Sign-in failed: the ID token is not from this user pool for this app.");
  }
  sessionStorage.setItem(TOKENS, JSON.stringify(body));
  sessionStorage.removeItem(FORCE_LOGIN);
}

// ---- signing out --------------------------------------------------------------------------

async function signOut(config, discovery) {
  const tokens = readSession(TOKENS);
  sessionStorage.removeItem(TOKENS);
  // Revoke the refresh token (RFC 7009), so it cannot mint new tokens; the ID and access
  // tokens it already issued stay valid until they expire.
  if (tokens && tokens.refresh_token && discovery.revocation_endpoint) {
    try {
      await fetch(discovery.revocation_endpoint,
                  form({ token: tokens.refresh_token, client_id: config.clientId }));
    } catch (error) {
      console.warn("could not revoke the refresh token", error);
    }
  }
  if (config.logoutUri && discovery.end_session_endpoint) {
    // Cognito's logout endpoint ends the hosted UI's session, then comes back to logoutUri.
    const url = new URL(discovery.end_session_endpoint);
    url.search = new URLSearchParams({ client_id: config.clientId, logout_uri: config.logoutUri });
    location.assign(url.href);
    return;
  }
  // No sign-out URL: the hosted UI still remembers the user, so the next sign-in asks again.
  sessionStorage.setItem(FORCE_LOGIN, "1");
  renderSignedOut("Signed out.");
}

// ---- calling the API ----------------------------------------------------------------------

/** One call: {status, reason} (reason: why a 401 was refused), or {error} if fetch failed
 * (the API unreachable, or CORS refused it). */
async function callRoute(route, token) {
  const headers = {};
  // API Gateway's JWT authorizer reads the Authorization header; the raw token, as the blog does.
  if (token) headers.Authorization = token;
  try {
    const response = await fetch(route.url, { method: route.method, headers, cache: "no-store" });
    return { status: response.status, reason: reasonOf(response.headers.get("www-authenticate")) };
  } catch (error) {
    return { error: error.message };
  }
}

function cell(className) {
  const td = document.createElement("td");
  td.className = className;
  td.textContent = "…";
  return td;
}

function showResult(td, result) {
  td.textContent = result.error ? "failed" : String(result.status);
  td.dataset.status = result.error ? "error" : String(result.status);
  if (result.error) td.title = result.error;
}

/** Call every route with and without the token, filling the table; the number of calls whose
 * answer the browser could not read. */
async function callEveryRoute(config, token) {
  const tbody = $("routes").tBodies[0];
  tbody.replaceChildren();
  let failed = 0;
  const calls = config.routes.map(async (route) => {
    const row = document.createElement("tr");
    row.dataset.route = route.route;
    const name = document.createElement("th");
    name.scope = "row";
    name.textContent = route.route;
    const withToken = cell("with-token");
    const withoutToken = cell("without-token");
    const reason = cell("reason");
    row.append(name, withToken, withoutToken, reason);
    tbody.append(row);

    const [mine, anonymous] = await Promise.all([callRoute(route, token), callRoute(route, null)]);
    showResult(withToken, mine);
    showResult(withoutToken, anonymous);
    reason.textContent = anonymous.error ? "no answer the browser may read" : anonymous.reason;
    failed += Boolean(mine.error) + Boolean(anonymous.error);
  });
  await Promise.all(calls);
  return failed;
}

// ---- rendering ----------------------------------------------------------------------------

function renderSignedOut(status) {
  clearError();
  show(false);
  setState("signed-out", status);
}

async function renderSignedIn(config, tokens) {
  clearError();
  const claims = jwtPayload(tokens.id_token);
  $("username").textContent = claims["cognito:username"] || claims.sub;
  const groups = claims["cognito:groups"] || [];
  $("groups").textContent = groups.length ? groups.join(", ") : "(none)";
  $("groups").dataset.groups = JSON.stringify(groups);
  show(true);
  setState("calling", "Calling the API…");
  // tokenUse says which token the API's authorizer checks: the ID token or the access token.
  const token = config.tokenUse === "access" ? tokens.access_token : tokens.id_token;
  const failed = await callEveryRoute(config, token);
  if (failed) {
    // fetch() tells a script nothing more; the browser's console says which it was.
    showError(new AppError(`The browser could not read ${failed} answer(s) of the API: it is ` +
                           `unreachable, or its CORS configuration does not allow this origin ` +
                           `(${location.origin}): add it to the stack's corsOrigins.`));
  }
  setState("done", `Called ${config.routes.length} route(s).`);
}

// ---- start --------------------------------------------------------------------------------

async function main() {
  const config = await getJson("/config.json", "the app's configuration");
  const discovery = await getJson(config.discoveryUrl, "the user pool's discovery document");
  $("sign-in").addEventListener("click", () => signIn(config, discovery).catch(fail));
  $("sign-out").addEventListener("click", () => signOut(config, discovery).catch(fail));

  const params = new URLSearchParams(location.search);
  if (params.has("code") || params.has("error")) {
    try {
      await finishSignIn(config, discovery, params);
    } catch (error) {
      renderSignedOut("Not signed in.");
      throw error;
    }
  }

  const tokens = readSession(TOKENS);
  if (tokens && tokens.id_token && jwtPayload(tokens.id_token).exp * 1000 > Date.now()) {
    await renderSignedIn(config, tokens);
  } else {
    if (tokens) sessionStorage.removeItem(TOKENS);
    renderSignedOut(tokens ? "Your session expired: sign in again." : "Not signed in.");
  }
}

function fail(error) {
  showError(error);
  document.body.dataset.state = "error";
}

main().catch(fail);
