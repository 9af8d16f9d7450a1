// Lists and diagrams follow the server's change feed without a reload.
// One EventSource per tab (GET /api/v1/events, the session cookie authenticates it); changes
// are gathered for FLUSH_MS and the stale queries refetched once, so a burst of a thousand
// steps costs one refetch per visible list. A `reset` (this tab missed too much) refetches
// everything. EventSource reconnects by itself, resuming after the last event id.
import { useEffect, useState } from "react";
import { useQueryClient } from "@tanstack/react-query";
import { StaleSet, type Change } from "./changes";

export type LiveState = "connecting" | "live" | "offline";

const FLUSH_MS = 500;

export function useLiveUpdates(enabled: boolean): LiveState {
  const queries = useQueryClient();
  const [state, setState] = useState<LiveState>("connecting");
  useEffect(() => {
    if (!enabled || typeof EventSource === "undefined") return;
    const source = new EventSource("/api/v1/events");
    const stale = new StaleSet();
    const flush = window.setInterval(() => {
      if (stale.size === 0) return;
      for (const queryKey of stale.take()) void queries.invalidateQueries({ queryKey });
    }, FLUSH_MS);
    source.onopen = () => setState("live");
    source.onerror = () => setState(source.readyState === EventSource.CLOSED ? "offline" : "connecting");
    source.addEventListener("change", (event) => {
      stale.add(JSON.parse((event as MessageEvent<string>).data) as Change);
    });
    source.addEventListener("reset", () => {
      stale.take();
      void queries.invalidateQueries();
    });
    return () => {
      window.clearInterval(flush);
      source.close();
    };
  }, [enabled, queries]);
  return enabled ? state : "offline";
}
