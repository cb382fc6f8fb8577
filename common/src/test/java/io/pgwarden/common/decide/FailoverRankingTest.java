package io.pgwarden.common.decide;

import static io.pgwarden.common.testing.Observations.member;
import static io.pgwarden.common.testing.Observations.node;
import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.decide.FailoverRanking.Candidate;
import io.pgwarden.common.model.Observation;
import io.pgwarden.common.model.SynchronousMode;
import io.pgwarden.common.testing.Observations;
import java.util.List;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Safety invariant 7: the healthiest eligible replica first. */
class FailoverRankingTest {

  private static List<String> ranking(Observations o) {
    Observation obs = o.build();
    return FailoverRanking.rank(obs, Decider.selfStatus(obs)).stream().map(Candidate::name)
        .collect(Collectors.toList());
  }

  @Test
  void mostWalReceivedFirst() {
    assertThat(ranking(node("n1").replicaRunning(1, "0/4000000")
        .member(member("n2").replica(1, "0/5000000"))
        .member(member("n3").replica(1, "0/3000000"))))
        .containsExactly("n2", "n1", "n3");
  }

  @Test
  void lsnIsComparedAsA64BitPositionNotAsText() {
    assertThat(ranking(node("n1").replicaRunning(1, "9/FFFFFFFF").maximumLagOnFailover(Long.MAX_VALUE)
        .member(member("n2").replica(1, "16/B374D848"))))
        .containsExactly("n2", "n1");
  }

  @Test
  void aHigherTimelineOutranksAHigherLsnOnAnOlderTimeline() {
    // No recorded latest timeline here, so both are eligible and must be ordered by timeline first;
    // the lag filter then drops the one on the other timeline.
    Observation obs = node("n1").replicaRunning(2, "0/3000000")
        .member(member("n2").replica(1, "0/9000000")).build();
    List<Candidate> ranked = FailoverRanking.rank(obs, Decider.selfStatus(obs));
    assertThat(ranked).extracting(Candidate::name).containsExactly("n1");
  }

  @Test
  void positionsOnDifferentTimelinesAreNeverComparedByLsnAlone() {
    assertThat(new io.pgwarden.common.model.WalPosition(2, Observations.lsn("0/1"))
        .compareTo(new io.pgwarden.common.model.WalPosition(1, Observations.lsn("FF/0")))).isPositive();
  }

  @Test
  void thenHigherFailoverPriority() {
    assertThat(ranking(node("n1").replicaRunning(1, "0/5000000")
        .member(member("n2").replica(1, "0/5000000").priority(5))
        .member(member("n3").replica(1, "0/5000000").priority(2))))
        .containsExactly("n2", "n3", "n1");
  }

  @Test
  void thenName() {
    assertThat(ranking(node("n2").replicaRunning(1, "0/5000000")
        .member(member("n3").replica(1, "0/5000000"))
        .member(member("n1").replica(1, "0/5000000"))))
        .containsExactly("n1", "n2", "n3");
  }

  @Test
  void lagBeyondMaximumIsFilteredAgainstTheLastPrimaryPosition() {
    assertThat(ranking(node("n1").replicaRunning(1, "0/5000000").maximumLagOnFailover(0x100000)
        .lastPrimaryPosition(1, "0/5080000")
        .member(member("n2").replica(1, "0/4F80000"))
        .member(member("n3").replica(1, "0/4F7FFFF"))))
        .containsExactly("n1", "n2");
  }

  @Test
  void lagIsMeasuredAgainstTheBestCandidateWhenItIsAheadOfTheLastPrimaryPosition() {
    assertThat(ranking(node("n1").replicaRunning(1, "0/5000000").maximumLagOnFailover(0x100)
        .lastPrimaryPosition(1, "0/1000000")
        .member(member("n2").replica(1, "0/4000000"))))
        .containsExactly("n1");
  }

  @Test
  void nofailoverAndPriorityZeroAreExcluded() {
    assertThat(ranking(node("n1").replicaRunning(1, "0/3000000")
        .member(member("n2").replica(1, "0/9000000").nofailover())
        .member(member("n3").replica(1, "0/9000000").priority(0))))
        .containsExactly("n1");
    assertThat(ranking(node("n1").replicaRunning(1, "0/3000000").nofailover())).isEmpty();
  }

  @Test
  void ineligibleMembersAreExcluded() {
    assertThat(ranking(node("n1").replicaRunning(2, "0/3000000").topology(2, "n0", 2)
        .member(member("n2").replica(1, "0/9000000"))                      // old timeline
        .member(member("n3").replica(2, "0/9000000").systemId("7999"))     // another cluster
        .member(member("n4").replica(2, "0/9000000").state("stopped"))     // not running
        .member(member("n5").primary(2, "0/9000000"))                      // not a replica
        .member(member("n6").replica(2, "0/9000000").noTimeline())))       // position unknown
        .containsExactly("n1");
  }

  @Test
  void inSynchronousModeOnlyRecordedSynchronousStandbys() {
    assertThat(ranking(node("n1").replicaRunning(1, "0/9000000").synchronousMode(SynchronousMode.STRICT)
        .topology(1, "n0", 1, "n2")
        .member(member("n2").replica(1, "0/3000000"))
        .member(member("n3").replica(1, "0/9000000"))))
        .containsExactly("n2");
  }

  @Test
  void ineligibilityNamesTheReason() {
    Observation obs = node("n1").replicaRunning(1, "0/3000000").topology(2, "n0", 2).build();
    assertThat(FailoverRanking.ineligibility(Decider.selfStatus(obs), obs.cluster()))
        .hasValueSatisfying(why -> assertThat(why).contains("timeline 1").contains("2"));
    Observation fine = node("n1").replicaRunning(2, "0/3000000").topology(2, "n0", 2).build();
    assertThat(FailoverRanking.ineligibility(Decider.selfStatus(fine), fine.cluster())).isEmpty();
  }
  /**
   * The topology key gone (deleted by hand) once the history shows terms were recorded: which standby
   * holds every acknowledged commit is unknown, so nobody is promoted on the guess. Before any record (a
   * bootstrap that stopped before its first) there is nothing to have lost.
   */
  @Test
  void inSynchronousModeAMissingTopologyAfterRecordedTermsMakesEveryoneIneligible() {
    Observations sync = node("n1").replicaRunning(1, "0/9000000").synchronousMode(SynchronousMode.ON)
        .member(member("n2").replica(1, "0/3000000"));
    assertThat(ranking(sync)).containsExactly("n1", "n2");

    Observation gone = sync.historyEntry(1, null, "n0", 1, null).build();
    assertThat(FailoverRanking.ineligibility(Decider.selfStatus(gone), gone.cluster()))
        .hasValueSatisfying(why -> assertThat(why).contains("topology"));
    assertThat(FailoverRanking.rank(gone, Decider.selfStatus(gone))).isEmpty();

    Observation async = node("n1").replicaRunning(1, "0/9000000").synchronousMode(SynchronousMode.OFF)
        .historyEntry(1, null, "n0", 1, null).build();
    assertThat(FailoverRanking.ineligibility(Decider.selfStatus(async), async.cluster())).isEmpty();
  }
}
