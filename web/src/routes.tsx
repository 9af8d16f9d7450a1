// The app's client routes, as data: a feature adds its screens here. The server answers
// every path that is not /api/... with index.html.
import { Navigate, type RouteObject } from "react-router-dom";
import { LoginPage } from "./auth/LoginPage";
import { IncidentsPage } from "./incidents/IncidentsPage";
import { InstancePage } from "./instances/InstancePage";
import { InstancesPage } from "./instances/InstancesPage";
import { ProcessesPage } from "./processes/ProcessesPage";
import { ProcessPage } from "./processes/ProcessPage";
import { Layout } from "./ui/Layout";
import { NotFound } from "./ui/NotFound";

// The modeler (bpmn-js Modeler, properties panel, lint) is most of the app's code: loaded
// when a modeler screen opens, not with every screen.
const modeler = () => import("./modeler/ModelerPage").then((module) => ({ Component: module.ModelerPage }));

export const routes: RouteObject[] = [
  { path: "/login", element: <LoginPage /> },
  {
    element: <Layout />,
    children: [
      { index: true, element: <Navigate to="/processes" replace /> },
      { path: "processes", element: <ProcessesPage /> },
      { path: "processes/:key", element: <ProcessPage /> },
      { path: "processes/:key/edit", lazy: modeler },
      { path: "modeler", lazy: modeler },
      { path: "instances", element: <InstancesPage /> },
      { path: "instances/:id", element: <InstancePage /> },
      { path: "incidents", element: <IncidentsPage /> },
      { path: "*", element: <NotFound /> },
    ],
  },
];
