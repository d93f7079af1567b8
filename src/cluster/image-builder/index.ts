// The image builder's surface for the agent (a CI build step without an engine): buildImage and the
// request and result it speaks; the pure parts (config, manifest) for whoever plans such a step.
export { buildImage } from './build-image.ts';
export type { FileCopy, ImageBuildRequest, ImageBuildResult, Platform, RegistryAccess } from './build-request.ts';
export { parseImageReference, rfc3339 } from './build-request.ts';
export { canonicalJson, imageConfig, mergeEnv, REVISION_LABEL, SOURCE_LABEL, type ConfigChanges } from './image-config.ts';
export { GZIP_LEVEL } from './layer-tar.ts';
