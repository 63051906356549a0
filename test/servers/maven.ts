import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export interface MavenArtifact {
  group: string;
  artifact: string;
  version: string;
}

/** Where resolved jars are cached between runs: $TSMICRO_CACHE_DIR or ~/.cache/tsmicro. */
export function cacheDirectory(): string {
  return process.env.TSMICRO_CACHE_DIR ?? join(homedir(), '.cache', 'tsmicro');
}

/**
 * The jars of `artifacts` and their runtime dependencies, resolved from Maven Central by Maven itself into
 * `<cache>/<name>/libs` the first time, and reused after. Returns the libs directory.
 */
export function resolveJars(name: string, artifacts: readonly MavenArtifact[]): string {
  const home = join(cacheDirectory(), name);
  const libs = join(home, 'libs');
  if (existsSync(libs) && readdirSync(libs).some((file) => file.endsWith('.jar'))) return libs;
  mkdirSync(home, { recursive: true });
  const dependencies = artifacts.map((a) => `<dependency><groupId>${a.group}</groupId><artifactId>${a.artifact}</artifactId><version>${a.version}</version></dependency>`).join('');
  writeFileSync(
    join(home, 'pom.xml'),
    `<project xmlns="http://maven.apache.org/POM/4.0.0"><modelVersion>4.0.0</modelVersion><groupId>dev.tsmicro.servers</groupId><artifactId>${name}</artifactId><version>1</version><packaging>pom</packaging><dependencies>${dependencies}</dependencies></project>`,
  );
  const staging = join(home, 'libs.partial');
  rmSync(staging, { recursive: true, force: true });
  execFileSync('mvn', ['-q', '-B', '-Dstyle.color=never', 'dependency:copy-dependencies', `-DoutputDirectory=${staging}`, '-DincludeScope=runtime'], { cwd: home, stdio: ['ignore', 'ignore', 'inherit'] });
  // Renamed into place only when complete, so an interrupted download is not mistaken for a finished one.
  renameSync(staging, libs);
  return libs;
}

export function hasCommand(command: string): boolean {
  try {
    execFileSync('sh', ['-c', `command -v ${command}`], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}
