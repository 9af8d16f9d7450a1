// The app's client routes, as data: a feature adds its screens here (the modeler will add
// /modeler/...). The server answers every path that is not /api/... with index.html.
import { Navigate, type RouteObject } from "react-router-dom";
import { LoginPage } from "./auth/LoginPage";
import { IncidentsPage } from "./incidents/IncidentsPage";
import { InstancePage } from "./instances/InstancePage";
import { InstancesPage } from "./instances/InstancesPage";
import { ProcessesPage } from "./processes/ProcessesPage";
import { ProcessPage } from "./processes/ProcessPage";
import { Layout } from "./ui/Layout";
import { NotFound } from "./ui/NotFound";

export const routes: RouteObject[] = [
  { path: "/login", element: <LoginPage /> },
  {
    element: <Layout />,
    children: [
      { index: true, element: <Navigate to="/processes" replace /> },
      { path: "processes", element: <ProcessesPage /> },
      { path: "processes/:key", element: <ProcessPage /> },
      { path: "instances", element: <InstancesPage /> },
      { path: "instances/:id", element: <InstancePage /> },
      { path: "incidents", element: <IncidentsPage /> },
      { path: "*", element: <NotFound /> },
    ],
  },
];
