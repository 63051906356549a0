/** This package's version, which plugins state compatibility against (kept equal to package.json's by a test). */
export const CORE_VERSION = '0.1.0';
