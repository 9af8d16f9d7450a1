import { useState, type FormEvent } from "react";
import { Navigate, useLocation, useNavigate } from "react-router-dom";
import { explain } from "../api/problems";
import { providerHref, useLoginOptions } from "./providers";
import { useLogin, useMe } from "./session";

/** Where to go after logging in: the page that sent us here, never another site. */
export function nextPath(search: string): string {
  const next = new URLSearchParams(search).get("next") ?? "/";
  return next.startsWith("/") && !next.startsWith("//") ? next : "/";
}

export function LoginPage() {
  const me = useMe();
  const login = useLogin();
  const navigate = useNavigate();
  const location = useLocation();
  const [username, setUsername] = useState("");
  const [password, setPassword] = useState("");
  const target = nextPath(location.search);
  const options = useLoginOptions();
  const offersPassword = options.data?.password ?? true;

  if (me.data) return <Navigate to={target} replace />;

  function submit(event: FormEvent) {
    event.preventDefault();
    login.mutate({ username, password }, { onSuccess: () => navigate(target, { replace: true }) });
  }

  return (
    <main className="login">
      <form className="card login-card" onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">Legato</h1>
        <p className="muted">Log in to see your processes.</p>
        {options.data?.providers.map((provider) => (
          <a key={provider.id} className="button sso" href={providerHref(provider, target)}>
            Log in with {provider.name}
          </a>
        ))}
        {options.data && options.data.providers.length > 0 && offersPassword && <p className="muted or">or with your password</p>}
        {offersPassword && (<>
        <label>
          User name
          <input name="username" autoComplete="username" required autoFocus value={username}
            onChange={(e) => setUsername(e.target.value)} />
        </label>
        <label>
          Password
          <input name="password" type="password" autoComplete="current-password" required value={password}
            onChange={(e) => setPassword(e.target.value)} />
        </label>
        {login.error && (
          <p role="alert" className="error">
            {login.error instanceof Error && "status" in login.error && login.error.status === 401
              ? "Wrong user name or password."
              : explain(login.error)}
          </p>
        )}
        <button type="submit" className="primary" disabled={login.isPending}>
          {login.isPending ? "Logging in…" : "Log in"}
        </button>
        </>)}
      </form>
    </main>
  );
}
