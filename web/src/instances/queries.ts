// Instances' server state: the paged list, one instance, its diagram state.
import { keepPreviousData, useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap, type Schemas } from "../api/client";

export type InstanceStatus = Schemas["InstanceSummary"]["status"];

export interface InstanceFilter {
  process?: string;
  status?: InstanceStatus;
  business_key?: string;
  version?: number;
  element?: string;
}

export const PAGE_SIZE = 25;

/** A filter from the page's query string (what a link or a saved URL says). */
export function filterFrom(search: URLSearchParams): InstanceFilter {
  const status = search.get("status");
  const statuses: InstanceStatus[] = ["active", "completed", "terminated", "cancelled"];
  return {
    process: search.get("process") || undefined,
    status: statuses.includes(status as InstanceStatus) ? (status as InstanceStatus) : undefined,
    business_key: search.get("business_key") || undefined,
    version: Number(search.get("version")) || undefined,
    element: search.get("element") || undefined,
  };
}

/** One page of instances, filtered and paged (by keyset cursor) on the server. */
export function useInstances(filter: InstanceFilter, cursor: string | null) {
  return useQuery({
    queryKey: ["instances", filter, cursor],
    queryFn: () =>
      unwrap(
        client.GET("/api/v1/instances", {
          params: {
            query: {
              process: filter.process,
              version: filter.process ? filter.version : undefined,
              status: filter.status,
              business_key: filter.business_key,
              waiting_at: filter.element,
              limit: PAGE_SIZE,
              cursor: cursor ?? undefined,
            },
          },
        }),
      ),
    placeholderData: keepPreviousData,
    refetchInterval: 5_000,
  });
}

/** "1,234" or, when the server stopped counting, "10,000+". */
export function totalText(total: number, exact: boolean): string {
  return `${total.toLocaleString("en")}${exact ? "" : "+"}`;
}

export function useInstance(id: string) {
  return useQuery({
    queryKey: ["instance", id],
    queryFn: () => unwrap(client.GET("/api/v1/instances/{instance_id}", { params: { path: { instance_id: id } } })),
    refetchInterval: (query) => (query.state.data?.status === "active" ? 3_000 : false),
  });
}

export function useCancelInstance(id: string) {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (reason: string | null) =>
      unwrap(client.POST("/api/v1/instances/{instance_id}/cancel", { params: { path: { instance_id: id } }, body: { reason } })),
    onSettled: () => queries.invalidateQueries({ queryKey: ["instance", id] }),
  });
}

/** Elements an instance went through, and the flows between them, from its history. */
export function takenPath(history: Schemas["HistoryEvent"][]): string[] {
  const taken = new Set<string>();
  for (const event of history) {
    if (event.element && (event.type === "element_completed" || event.type === "element_passed" || event.type === "element_entered")) {
      taken.add(event.element);
    }
    const data = event.data as { flow?: unknown } | null;
    if (data && typeof data.flow === "string") taken.add(data.flow);
  }
  return [...taken];
}
