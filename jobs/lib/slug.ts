/**
 * The `--org <slug>` flag: checked against the API's slug format before any request, and never empty
 * (an empty `--org ""` must not widen a run to every organisation).
 */
import { z } from "zod";
import { ORG_SLUG } from "../../src/runtime/admin-api.ts";

/** @example orgFlag.parse("acme_inc") // "acme_inc"; orgFlag.parse("") fails; orgFlag.parse(undefined) // undefined */
export const orgFlag = z
  .string()
  .optional()
  .superRefine((raw, ctx) => {
    if (raw === undefined) return;
    if (raw.trim() === "")
      ctx.addIssue({
        code: "custom",
        message: "is empty: give an org slug, or leave the flag out to include every organisation",
      });
    else if (!ORG_SLUG.test(raw))
      ctx.addIssue({
        code: "custom",
        message: `"${raw}" is not an org slug (3 to 50 characters of a-z, 0-9 and _, the API's format)`,
      });
  });
