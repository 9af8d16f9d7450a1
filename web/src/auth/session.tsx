// Who is logged in: GET /auth/me, cached by the query layer; login and logout change it.
import { useMutation, useQuery, useQueryClient } from "@tanstack/react-query";
import { client, unwrap } from "../api/client";
import { ApiError } from "../api/problems";
import type { Me } from "./permissions";

export const ME_KEY = ["auth", "me"] as const;

/** The current user, or null when nobody is logged in (a 401 is an answer here, not an error). */
export function useMe() {
  return useQuery<Me | null>({
    queryKey: ME_KEY,
    queryFn: async () => {
      try {
        return await unwrap(client.GET("/api/v1/auth/me"));
      } catch (error) {
        if (error instanceof ApiError && error.status === 401) return null;
        throw error;
      }
    },
    staleTime: 60_000,
    retry: false,
  });
}

export function useLogin() {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: (body: { username: string; password: string }) => unwrap(client.POST("/api/v1/auth/login", { body })),
    onSuccess: (me) => {
      queries.clear();
      queries.setQueryData(ME_KEY, { ...me, csrf_token: null });
    },
  });
}

export function useLogout() {
  const queries = useQueryClient();
  return useMutation({
    mutationFn: () => unwrap(client.POST("/api/v1/auth/logout")),
    onSettled: () => {
      queries.clear();
      queries.setQueryData(ME_KEY, null);
    },
  });
}
