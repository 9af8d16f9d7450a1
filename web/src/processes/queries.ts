// The processes' server state, one hook per question a screen asks.
import { useQuery } from "@tanstack/react-query";
import { API_PREFIX, client, getText, unwrap } from "../api/client";
import { countByElement, type ProcessStatistics } from "./statistics";

const PAGE = 1000; // the API's largest page

export function useDefinitions() {
  return useQuery({
    queryKey: ["definitions", "all"],
    queryFn: () => unwrap(client.GET("/api/v1/definitions", { params: { query: { all_versions: true } } })),
  });
}

export function useDiagram(key: string, version?: number) {
  return useQuery({
    queryKey: ["definitions", key, version ?? "latest", "bpmn"],
    queryFn: () =>
      getText(`${API_PREFIX}/definitions/${encodeURIComponent(key)}/bpmn${version ? `?version=${version}` : ""}`),
    staleTime: Infinity, // a deployed version never changes
  });
}

export function useProcessStatistics(key: string, version?: number) {
  return useQuery<ProcessStatistics>({
    queryKey: ["statistics", key, version ?? "all"],
    queryFn: async () => {
      const [instances, incidents] = await Promise.all([
        unwrap(client.GET("/api/v1/instances", { params: { query: { process: key, status: "active", limit: PAGE } } })),
        unwrap(client.GET("/api/v1/incidents", { params: { query: { status: "open", limit: PAGE } } })),
      ]);
      const items = version ? instances.items.filter((i) => i.version === version) : instances.items;
      return countByElement(items, incidents.items, instances.items.length >= PAGE || incidents.items.length >= PAGE);
    },
    refetchInterval: 5_000,
  });
}
