// What Hearth reads from a builder-web service (builds.robur.coop) when it asks for JSON. Only
// the fields Hearth uses are checked, and checked strictly; anything else the service adds is
// ignored, so a newer builder-web keeps working and a broken one is refused, never half-read.
//
// Checked against builder-web's own source (robur-coop/builder-web, the Vif version in
// lib-miou/: builder_miou.ml's routes and views.ml's Job.make_json): with
// `Accept: application/json`, only GET /job/<job> answers JSON, exactly
// `{"builds": [{"uuid", "main_binary": {"filename", "sha256", "size"} | null}]}`, one entry per
// different image the job made, newest first (Model.builds_grouped_by_output over
// Build.get_all_artifact_sha, ORDER BY start DESC). It carries no times, no platform and no
// Solo5 target; the build page (/job/<job>/build/<uuid>) and /hash?sha256= (a redirect to that
// page) answer HTML only.
import { z } from 'zod';
import { MAX_ARTIFACT_BYTES, sha256Schema } from './catalog-schema';

const uuidSchema = z
  .string()
  .regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, 'not a build id');

/** A build's main artifact: the unikernel image itself (`filename` is its basename). */
export const mainBinarySchema = z.looseObject({
  filename: z.string().min(1).max(255),
  sha256: sha256Schema,
  size: z.number().int().min(1).max(MAX_ARTIFACT_BYTES),
});

/** One build as the job's list shows it. A build that failed has no main binary. */
export const buildSummarySchema = z.looseObject({
  uuid: uuidSchema,
  main_binary: mainBinarySchema.nullable().optional(),
});
export type BuildSummary = z.infer<typeof buildSummarySchema>;

/** GET /job/<job>: the job's builds, one per different image, newest first. */
export const jobSchema = z.looseObject({
  builds: z.array(buildSummarySchema).max(10_000),
});
