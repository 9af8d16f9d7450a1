// The modeler's server state: the deployed document a version is edited from.
import { useQuery } from "@tanstack/react-query";
import { API_PREFIX, client, getText, unwrap } from "../api/client";

/**
 * The file to edit for a deployed version: the source as uploaded when it was BPMN (it keeps
 * the author's layout, flavour and every extension), else the BPMN export of a model written
 * in YAML or Python (Camunda 8 flavour, laid out automatically).
 */
export function useDeployedDocument(key: string | undefined, version: number | undefined) {
  return useQuery({
    queryKey: ["definitions", key, version ?? "latest", "document"],
    enabled: Boolean(key),
    queryFn: async () => {
      const detail = await unwrap(
        client.GET("/api/v1/definitions/{key}", { params: { path: { key: key! }, query: { version } } }),
      );
      const where = `${API_PREFIX}/definitions/${encodeURIComponent(key!)}`;
      const query = `?version=${detail.version}`;
      const xml = detail.source_format === "bpmn" ? await getText(`${where}/source${query}`) : await getText(`${where}/bpmn${query}`);
      return { xml, version: detail.version, name: detail.name, sourceFormat: detail.source_format };
    },
    staleTime: Infinity, // a deployed version never changes
  });
}
