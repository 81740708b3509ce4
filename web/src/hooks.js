import { createContext } from "preact";
import { useContext, useEffect, useState } from "preact/hooks";
import { get } from "./api.js";

/** What every part of the page needs: the view state, texts and the catalog. */
export const Ctx = createContext(null);
export const useCtx = () => useContext(Ctx);

/** GET a path (null = nothing to load); {loading, data, error}. */
export function useApi(path) {
  const [st, setSt] = useState({ loading: !!path });
  useEffect(() => {
    if (!path) return setSt({ loading: false });
    let alive = true;
    setSt({ loading: true });
    get(path).then(
      (data) => alive && setSt({ loading: false, data }),
      (error) => alive && setSt({ loading: false, error }),
    );
    return () => {
      alive = false;
    };
  }, [path]);
  return st;
}
