import { DomainError } from "./errors";

/**
 * One answer for "this wish does not exist" and "it exists but you may not see it", in every callable that takes a
 * wish id (docs/security.md lists them): the reason `wish_not_visible` (`permission-denied`). The rules answer a hidden and a
 * missing wish with `permission-denied` too. So a hidden surprise cannot be detected by its id.
 */
export function wishNotVisible(): DomainError {
  return new DomainError("wish_not_visible");
}

/** The wish when `uid` is one of its viewers; otherwise (missing or hidden) {@link wishNotVisible}. */
export function requireVisibleWish<W extends { viewerIds: string[] }>(wish: W | undefined, uid: string): W {
  if (!wish || !wish.viewerIds.includes(uid)) throw wishNotVisible();
  return wish;
}
