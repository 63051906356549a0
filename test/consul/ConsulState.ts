/**
 * The state a Consul agent keeps for the endpoints tsmicro uses, modelled on Consul's HTTP API documentation:
 * services registered with the agent, their checks (TTL checks start critical, turn passing on /check/pass and
 * critical again when the TTL lapses), the reaper that deregisters a service whose check stayed critical longer
 * than DeregisterCriticalServiceAfter (at least one minute in Consul), and the modify index that blocking queries
 * wait on.
 */
export interface AgentService {
  ID: string;
  Service: string;
  Tags: string[];
  Address: string;
  Port: number;
  Meta: Record<string, string>;
}

export interface AgentCheck {
  CheckID: string;
  Name: string;
  Status: 'passing' | 'warning' | 'critical';
  Output: string;
  ServiceID: string;
  ServiceName: string;
  ttlMs: number;
  deregisterAfterMs: number;
  /** When the TTL runs out (passing → critical). */
  expiresAt: number;
  /** When the check last became critical. */
  criticalSince: number;
}

export interface ConsulTimings {
  /** How often the reaper looks for services to deregister (Consul: 30 s). */
  reapIntervalMs: number;
  /** Consul raises any DeregisterCriticalServiceAfter below this to it (Consul: 1 minute). */
  minimumDeregisterAfterMs: number;
}

export const CONSUL_TIMINGS: ConsulTimings = { reapIntervalMs: 30_000, minimumDeregisterAfterMs: 60_000 };

export class ConsulState {
  readonly services = new Map<string, AgentService>();
  readonly checks = new Map<string, AgentCheck>();
  index = 1;
  #waiters = new Set<() => void>();
  #timer: NodeJS.Timeout;

  constructor(private readonly timings: ConsulTimings) {
    this.#timer = setInterval(() => this.tick(Date.now()), Math.min(250, timings.reapIntervalMs));
    this.#timer.unref();
  }

  #lastReap = Date.now();

  /** Expires TTL checks and, on the reaper's schedule, deregisters services critical for too long. */
  tick(now: number): void {
    let changed = false;
    for (const check of this.checks.values()) {
      if (check.ttlMs > 0 && check.Status !== 'critical' && check.expiresAt <= now) {
        check.Status = 'critical';
        check.Output = 'TTL expired';
        check.criticalSince = now;
        changed = true;
      }
    }
    if (now - this.#lastReap >= this.timings.reapIntervalMs) {
      this.#lastReap = now;
      for (const check of [...this.checks.values()]) {
        if (check.Status === 'critical' && check.deregisterAfterMs > 0 && now - check.criticalSince >= check.deregisterAfterMs) {
          this.deregister(check.ServiceID);
          changed = true;
        }
      }
    }
    if (changed) this.bump();
  }

  register(service: AgentService, check: { ttlMs: number; deregisterAfterMs: number; status?: AgentCheck['Status'] } | undefined): void {
    this.services.set(service.ID, service);
    for (const [id, existing] of this.checks) if (existing.ServiceID === service.ID) this.checks.delete(id);
    if (check) {
      const now = Date.now();
      const status = check.status ?? 'critical';
      this.checks.set(`service:${service.ID}`, {
        CheckID: `service:${service.ID}`,
        Name: `Service '${service.Service}' check`,
        Status: status,
        Output: '',
        ServiceID: service.ID,
        ServiceName: service.Service,
        ttlMs: check.ttlMs,
        deregisterAfterMs: check.deregisterAfterMs > 0 ? Math.max(check.deregisterAfterMs, this.timings.minimumDeregisterAfterMs) : 0,
        expiresAt: now + check.ttlMs,
        criticalSince: now,
      });
    }
    this.bump();
  }

  /** False when no such service is registered. */
  deregister(id: string): boolean {
    if (!this.services.delete(id)) return false;
    for (const [checkId, check] of this.checks) if (check.ServiceID === id) this.checks.delete(checkId);
    this.bump();
    return true;
  }

  /** Consul's answers: 'ok', 'unknown' (no such check), 'no-ttl' (not a TTL check). */
  pass(checkId: string, note: string): 'ok' | 'unknown' | 'no-ttl' {
    const check = this.checks.get(checkId);
    if (!check) return 'unknown';
    if (check.ttlMs <= 0) return 'no-ttl';
    const wasPassing = check.Status === 'passing';
    check.Status = 'passing';
    check.Output = note;
    check.expiresAt = Date.now() + check.ttlMs;
    if (!wasPassing) this.bump();
    return 'ok';
  }

  checksOf(serviceId: string): AgentCheck[] {
    return [...this.checks.values()].filter((check) => check.ServiceID === serviceId);
  }

  bump(): void {
    this.index++;
    for (const wake of [...this.#waiters]) wake();
  }

  /** Resolves when the index moves past `index`, or after `waitMs`: a blocking query's wait. */
  waitBeyond(index: number, waitMs: number): Promise<void> {
    if (this.index > index) return Promise.resolve();
    return new Promise((resolve) => {
      const done = (): void => {
        clearTimeout(timer);
        this.#waiters.delete(done);
        resolve();
      };
      const timer = setTimeout(done, waitMs);
      this.#waiters.add(done);
    });
  }

  close(): void {
    clearInterval(this.#timer);
    for (const wake of [...this.#waiters]) wake();
  }
}
