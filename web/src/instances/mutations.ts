// Changing an instance's variables: checked against the revision the person was looking at,
// so an edit made on a page that has gone stale is refused with a message instead of
// overwriting what happened meanwhile.
import { useMutation, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import { ApiError } from "../api/problems";

export interface VariableChange {
  set?: Record<string, unknown>;
  remove?: string[];
  /** the instance's revision when the person began the change */
  revision: number;
}

export class StaleInstance extends ApiError {
  constructor(seen: number, now: number) {
    super({
      status: 409,
      code: "STALE_PAGE",
      detail: `the instance moved on while you edited (revision ${seen}, now ${now}); its current values are shown: check them and save again.`,
    });
  }
}

export function useChangeVariables(instanceId: string) {
  const queries = useQueryClient();
  const path = { params: { path: { instance_id: instanceId } } };
  return useMutation({
    mutationFn: async (change: VariableChange) => {
      const current = await unwrap(client.GET("/api/v1/instances/{instance_id}", path));
      if (current.revision !== change.revision) throw new StaleInstance(change.revision, current.revision);
      return unwrap(
        client.PATCH("/api/v1/instances/{instance_id}/variables", {
          ...path,
          body: { set: change.set ?? null, remove: change.remove ?? [] },
        }),
      );
    },
    onSuccess: (instance) => queries.setQueryData(["instance", instanceId], instance),
    onError: () => queries.invalidateQueries({ queryKey: ["instance", instanceId] }),
  });
}
