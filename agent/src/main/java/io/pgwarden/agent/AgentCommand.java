package io.pgwarden.agent;

import io.pgwarden.agent.api.PemTls;
import io.pgwarden.agent.api.RestApi;
import io.pgwarden.agent.etcd.JetcdClusterStore;
import io.pgwarden.agent.local.LocalCluster;
import io.pgwarden.agent.loop.ActionExecutor;
import io.pgwarden.agent.loop.Callbacks;
import io.pgwarden.agent.loop.AsyncActions;
import io.pgwarden.agent.loop.Observer;
import io.pgwarden.agent.loop.OperatorRequests;
import io.pgwarden.agent.loop.ReconcileLoop;
import io.pgwarden.agent.loop.WakeupSignal;
import io.pgwarden.agent.loop.WatchedScope;
import io.pgwarden.agent.port.ClusterStore;
import io.pgwarden.agent.port.FatalAgentException;
import io.pgwarden.agent.port.PostgresControl;
import io.pgwarden.agent.port.RawKv;
import io.pgwarden.agent.postgres.PostgresNode;
import io.pgwarden.agent.postgres.ProcessRunner;
import io.pgwarden.agent.watchdog.Watchdog;
import io.pgwarden.agent.watchdog.WatchdogFence;
import io.pgwarden.common.config.AgentConfig;
import io.pgwarden.common.config.ConfigException;
import io.pgwarden.common.config.ConfigLoader;
import io.pgwarden.common.config.Credentials;
import io.pgwarden.common.config.Keys;
import io.pgwarden.common.decide.Decider;
import io.pgwarden.common.decide.DecisionPolicy;
import io.pgwarden.common.decide.DemoteMode;
import io.pgwarden.common.lease.LeaseTracker;
import io.pgwarden.common.model.DynamicConfig;
import io.pgwarden.common.time.MonotonicClock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code pgwarden agent --config FILE}: one per PostgreSQL node. Hand wiring, no container. */
@Command(name = "agent", mixinStandardHelpOptions = true, description = "Run the agent for one PostgreSQL node.")
final class AgentCommand implements java.util.concurrent.Callable<Integer> {
  private static final Logger log = LoggerFactory.getLogger(AgentCommand.class);

  @Option(names = {"-c", "--config"}, required = true, description = "The node's YAML config file.")
  Path config;

  @Override
  public Integer call() throws Exception {
    if (LocalCluster.isRoot()) {
      System.err.println("pgwarden agent must not run as root: PostgreSQL refuses to, and the agent runs it. "
          + "Run it as the OS user that owns the data directory, e.g. `sudo -u postgres pgwarden agent --config "
          + config + "`.");
      return 1;
    }
    AgentConfig cfg;
    Credentials superuser;
    Credentials replication;
    Credentials etcdAuth;
    Credentials apiAuth;
    try {
      cfg = ConfigLoader.load(config);
      superuser = Secrets.resolve("postgresql.authentication.superuser", cfg.postgresql().authentication().superuser(), System.getenv());
      replication = Secrets.resolve("postgresql.authentication.replication", cfg.postgresql().authentication().replication(), System.getenv());
      etcdAuth = Secrets.resolve("etcd.auth", cfg.etcd().auth(), System.getenv());
      apiAuth = Secrets.resolve("api.auth", cfg.api().auth(), System.getenv());
      checkBinaries(cfg);
    } catch (ConfigException e) {
      System.err.println("pgwarden: invalid configuration: " + e.getMessage());
      return 2;
    }
    Keys keys = cfg.keys();
    MonotonicClock clock = MonotonicClock.SYSTEM;
    WakeupSignal wakeup = new WakeupSignal();
    try (JetcdClusterStore store = JetcdClusterStore.connect(cfg.etcd(), etcdAuth == null ? null : etcdAuth.password());
        AsyncActions async = new AsyncActions(wakeup::signal)) {
      DynamicConfig initial = initialConfig(store, keys, cfg.bootstrap());
      LeaseTracker lease = new LeaseTracker(clock, initial.retryTimeoutDuration());
      PostgresNode pg = new PostgresNode(cfg.name(), cfg.postgresql(), superuser, replication, new ProcessRunner(List.of()));
      OperatorRequests requests = new OperatorRequests(wakeup);
      // Events only wake the loop (it re-reads everything), but they also keep the scope cache current, so
      // an idle loop reads the scope from the cache instead of range-reading it each tick.
      WatchedScope scope = new WatchedScope(store, keys.prefix(), clock, change -> {
        if (change.wakesLoop(keys.membersPrefix())) {
          wakeup.signal();
        }
      });
      Observer observer = new Observer(cfg.name(), cfg.tags(), keys, store, pg, lease, async, clock, initial, requests,
          scope::read);
      Path dataDir = Path.of(cfg.postgresql().dataDir());
      WatchdogFence fence = new WatchdogFence(
          () -> Watchdog.start(Path.of(cfg.postgresql().binDir()), dataDir, dataDir.getParent()), cfg.name(), lease);
      ActionExecutor executor = new ActionExecutor(cfg.name(), keys, store, pg, pg, lease, async,
          observer::callTimeout, cfg.bootstrap(), fence::keyAcquired);
      Callbacks callbacks = new Callbacks(cfg.callbacks(), cfg.scope(), new ProcessRunner(List.of()));
      ReconcileLoop loop = new ReconcileLoop(cfg.scope(), cfg.name(), cfg.tags(), keys, observer,
          new Decider(DecisionPolicy.DEFAULT), executor, store, lease, wakeup, clock,
          new ReconcileLoop.Addresses(cfg.api().url(), cfg.postgresql().connectAddress().toString(), Main.version()),
          requests, fence, callbacks);
      AutoCloseable watch = store.watchPrefix(keys.prefix(), scope);
      RestApi api = new RestApi(cfg.api().listen(), loop.status(), clock,
          () -> observer.config().ttlDuration(), new RestApi.Operations(apiAuth, requests, store, keys),
          cfg.api().tls() == null ? null
              : PemTls.serverContext(Path.of(cfg.api().tls().cert()), Path.of(cfg.api().tls().key()),
                  cfg.api().tls().clientCa() == null ? null : Path.of(cfg.api().tls().clientCa())),
          cfg.api().tls() != null && cfg.api().tls().clientCa() != null);
      api.start();
      log.info("pgwarden {} agent {} of cluster {} starting; etcd {}", Main.version(), cfg.name(), cfg.scope(),
          cfg.etcd().endpoints());

      // SIGTERM: the hook only asks the loop to stop, then waits while this thread stops PostgreSQL and
      // releases the keys — before the etcd client below is closed.
      CountDownLatch done = new CountDownLatch(1);
      java.util.concurrent.atomic.AtomicBoolean terminating = new java.util.concurrent.atomic.AtomicBoolean();
      Runtime.getRuntime().addShutdownHook(new Thread(() -> {
        terminating.set(true);
        log.info("shutting down: stopping the loop, then PostgreSQL, then releasing my keys");
        loop.stop();
        try {
          done.await(60 + callbacks.stoppingBound().toSeconds(), TimeUnit.SECONDS);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
        }
      }, "pgwarden-shutdown"));
      try {
        loop.run();
        if (terminating.get()) {
          boolean stopped = shutdown(pg, store, keys, cfg.name(), lease, observer.config().paused(), fence);
          // After the keys are released, so a slow on_stop does not delay a failover.
          callbacks.agentStopping(stopped);
        } else {
          callbacks.close();
          fence.close();
        }
      } catch (FatalAgentException e) {
        log.error("stopping the agent: {}", e.getMessage());
        return 3;
      } finally {
        watch.close();
        api.close();
        done.countDown();
      }
      return 0;
    }
  }

  /**
   * Stops PostgreSQL, releases the keys, and then lets the watchdog go. Returns whether this agent
   * stopped PostgreSQL.
   */
  static boolean shutdown(PostgresControl pg, ClusterStore store, Keys keys, String me, LeaseTracker lease,
      boolean paused, WatchdogFence fence) {
    if (paused) {
      log.info("paused: leaving PostgreSQL running");
      fence.close();
      return false;
    }
    try {
      pg.stop(DemoteMode.FAST);
    } catch (RuntimeException e) {
      // Disarming now would leave a primary that nothing fences once my lease runs out and a replica
      // is promoted. Armed, the watchdog takes the end of its input for my death and stops it at once.
      if (fence.armed()) {
        log.error("could not stop PostgreSQL ({}); leaving the watchdog armed so that it stops PostgreSQL (immediate) "
            + "as I exit: it may be running as primary, and a replica is promoted once my lease runs out",
            e.getMessage());
      } else {
        log.error("could not stop PostgreSQL ({}); leaving it running: it is not primary, so the watchdog is "
            + "disarmed", e.getMessage());
      }
      fence.hangUp();
      return false;
    }
    try {
      Duration t = Duration.ofSeconds(2);
      store.deleteIfValue(keys.leader(), me, t);
      if (lease.leaseId() != 0) {
        store.revokeLease(lease.leaseId(), t);
      }
    } catch (RuntimeException e) {
      log.warn("could not release my keys (they expire with my lease): {}", e.getMessage());
    }
    // Only after PostgreSQL stopped and the keys are released: the watchdog also covers a hung shutdown.
    fence.close();
    return true;
  }

  private static DynamicConfig initialConfig(ClusterStore store, Keys keys, DynamicConfig fallback) {
    try {
      RawKv kv = store.get(keys.config(), Duration.ofSeconds(5));
      if (kv != null) {
        return ConfigLoader.parseDynamic(kv.value());
      }
    } catch (ConfigException e) {
      log.error("ignoring invalid dynamic config in {}: {}", keys.config(), e.getMessage());
    } catch (RuntimeException e) {
      log.warn("could not read {} at start-up ({}); using the bootstrap settings until etcd answers",
          keys.config(), e.getMessage());
    }
    return fallback;
  }

  private static void checkBinaries(AgentConfig cfg) {
    Path bin = Path.of(cfg.postgresql().binDir());
    for (String prog : List.of("initdb", "pg_ctl", "pg_basebackup", "pg_rewind", "pg_controldata")) {
      if (!Files.isExecutable(bin.resolve(prog))) {
        throw new ConfigException("postgresql.bin_dir: " + bin.resolve(prog)
            + " not found or not executable (install postgresql-15, or point bin_dir at its bin directory)");
      }
    }
    Path parent = Path.of(cfg.postgresql().dataDir()).getParent();
    if (parent == null || !Files.isDirectory(parent) || !Files.isWritable(parent)) {
      throw new ConfigException("postgresql.data_dir: the parent directory " + parent
          + " must exist and be writable by this user (data directories are built beside it and swapped in)");
    }
  }
}
