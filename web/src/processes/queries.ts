// The processes' server state, one hook per question a screen asks.
import { useQuery } from "@tanstack/react-query";
import { API_PREFIX, client, getText, unwrap } from "../api/client";
import { fromStatistics, type ProcessStatistics } from "./statistics";

export function useDefinitions() {
  return useQuery({
    queryKey: ["definitions", "all"],
    queryFn: () => unwrap(client.GET("/api/v1/definitions", { params: { query: { all_versions: true, limit: 1000 } } })),
    refetchInterval: 5_000,
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
    queryFn: async () =>
      fromStatistics(
        await unwrap(
          client.GET("/api/v1/definitions/{key}/statistics", { params: { path: { key }, query: { version } } }),
        ),
      ),
    refetchInterval: 5_000,
  });
}
