import { Link, useLocation } from "react-router-dom";

export function NotFound() {
  const location = useLocation();
  return (
    <section>
      <h1>Not found</h1>
      <p>There is no page at <code>{location.pathname}</code>. <Link to="/processes">Go to the processes</Link>.</p>
    </section>
  );
}
