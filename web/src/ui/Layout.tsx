import { NavLink, Navigate, Outlet, useLocation, useNavigate } from "react-router-dom";
import { useLogout, useMe } from "../auth/session";
import { may } from "../auth/permissions";
import { useLiveUpdates, type LiveState } from "../live/useLiveUpdates";
import { ErrorNote, Loading } from "./feedback";

const SECTIONS = [
  { to: "/processes", label: "Processes" },
  { to: "/instances", label: "Instances" },
  { to: "/incidents", label: "Incidents" },
];

/** The frame of every screen behind the login: navigation, who am I, logout. */
export function Layout() {
  const me = useMe();
  const logout = useLogout();
  const location = useLocation();
  const navigate = useNavigate();
  const live = useLiveUpdates(may(me.data, "instances:read"));
  if (me.isPending) return <Loading what="your session" />;
  if (me.error) return <ErrorNote error={me.error} />;
  if (!me.data) {
    const next = encodeURIComponent(location.pathname + location.search);
    return <Navigate to={`/login?next=${next}`} replace />;
  }
  return (
    <div className="app">
      <a className="skip" href="#content">Skip to content</a>
      <header className="topbar">
        <span className="brand">Legato</span>
        <nav aria-label="Sections">
          {SECTIONS.map((section) => (
            <NavLink key={section.to} to={section.to}>{section.label}</NavLink>
          ))}
          {may(me.data, "definitions:deploy") && <NavLink to="/modeler">Modeler</NavLink>}
        </nav>
        <div className="whoami">
          <LiveBadge state={live} />
          <span title={me.data.permissions.join(", ")} data-testid="whoami">
            {me.data.display_name ?? me.data.username}
          </span>
          <button type="button" onClick={() => logout.mutate(undefined, { onSettled: () => navigate("/login") })}>
            Log out
          </button>
        </div>
      </header>
      <main id="content" tabIndex={-1}>
        <Outlet />
      </main>
    </div>
  );
}

const LIVE_TEXT: Record<LiveState, string> = {
  live: "Live",
  connecting: "Connecting…",
  offline: "Not live: reload to see changes",
};

/** Whether the screens follow the server's changes; announced to screen readers when it changes. */
function LiveBadge({ state }: { state: LiveState }) {
  return (
    <span role="status" aria-live="polite" className={`live live-${state}`} data-testid="live" title={LIVE_TEXT[state]}>
      <span aria-hidden="true" className="live-dot" />
      {state === "live" ? "Live" : state === "connecting" ? "Connecting…" : "Offline"}
    </span>
  );
}
