package io.pgwarden.agent.watchdog;

import static io.pgwarden.agent.watchdog.WatchdogFence.Feed.ARM;
import static io.pgwarden.agent.watchdog.WatchdogFence.Feed.DISARM;
import static io.pgwarden.agent.watchdog.WatchdogFence.Feed.KEEP;
import static io.pgwarden.agent.watchdog.WatchdogFence.decide;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.model.ControlState;
import io.pgwarden.common.model.DataDirState;
import io.pgwarden.common.model.LocalPgState;
import org.junit.jupiter.api.Test;

class WatchdogFenceTest {
  private static final LocalPgState PRIMARY = local(true, false, true);
  private static final LocalPgState REPLICA = local(true, true, true);
  private static final LocalPgState STOPPED = local(false, false, false);
  private static final LocalPgState UNKNOWN = LocalPgState.unknown("probe timed out", true);

  @Test
  void theKeyHolderArmsWhateverItsPostgresIsDoing() {
    // Armed before a promote or a start as primary: only the key holder does either.
    for (LocalPgState l : new LocalPgState[] {PRIMARY, REPLICA, STOPPED, UNKNOWN}) {
      assertThat(decide(false, true, true, true, l)).isEqualTo(ARM);
    }
  }

  @Test
  void aPrimaryWithoutTheKeyKeepsItsLastDeadline() {
    assertThat(decide(false, true, false, true, PRIMARY)).isEqualTo(KEEP);
    assertThat(decide(false, true, true, false, PRIMARY)).isEqualTo(KEEP);
  }

  @Test
  void etcdUnreachableNeverDisarmsNorExtendsAPrimary() {
    assertThat(decide(false, false, false, true, PRIMARY)).isEqualTo(KEEP);
    assertThat(decide(false, false, true, true, PRIMARY)).isEqualTo(KEEP);
  }

  @Test
  void anUnknownLocalStateKeepsTheLastDeadline() {
    assertThat(decide(false, true, false, true, UNKNOWN)).isEqualTo(KEEP);
  }

  @Test
  void replicasAndStoppedNodesWithoutTheKeyDisarm() {
    assertThat(decide(false, true, false, true, REPLICA)).isEqualTo(DISARM);
    assertThat(decide(false, true, false, false, STOPPED)).isEqualTo(DISARM);
    assertThat(decide(false, false, false, false, REPLICA)).isEqualTo(DISARM);
  }

  @Test
  void pausedAlwaysDisarms() {
    assertThat(decide(true, true, true, true, PRIMARY)).isEqualTo(DISARM);
    assertThat(decide(true, false, false, false, PRIMARY)).isEqualTo(DISARM);
  }

  private static LocalPgState local(boolean running, boolean inRecovery, boolean postmasterAlive) {
    return new LocalPgState(DataDirState.VALID, running, inRecovery,
        running ? ControlState.IN_PRODUCTION : ControlState.SHUT_DOWN, "1", 1L, null, null, false, null, null, null,
        postmasterAlive, null);
  }
}
