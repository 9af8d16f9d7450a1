import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, type Schemas } from "../api/client";

export type Incident = Schemas["Incident"];

export function useIncidents(status: "open" | "resolved") {
  return useQuery({
    queryKey: ["incidents", status],
    queryFn: () => unwrap(client.GET("/api/v1/incidents", { params: { query: { status, limit: 1000 } } })),
    refetchInterval: 5_000,
  });
}

/** Retry an incident's step, with the fix (`variables`) set in the same step when given. */
export function useRetryIncident() {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: ({ incident, variables }: { incident: Incident; variables?: Record<string, unknown> }) =>
      unwrap(
        client.POST("/api/v1/incidents/{incident_id}/retry", {
          params: { path: { incident_id: incident.id } },
          body: variables ? { variables } : undefined,
        }),
      ),
    onSettled: (_data, _error, { incident }) => {
      void queries.invalidateQueries({ queryKey: ["incidents"] });
      void queries.invalidateQueries({ queryKey: ["instance", incident.instance_id] });
      void queries.invalidateQueries({ queryKey: ["statistics"] });
    },
  });
}
