package io.pgwarden.agent.cli;

import static org.assertj.core.api.Assertions.assertThat;

import io.pgwarden.common.model.Tags;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ClusterCommandsTest {
  @Test
  void theTagsColumnShowsWhatSetsAMemberApart() {
    assertThat(ClusterCommands.tagsCell(Tags.NONE)).isEmpty();
    assertThat(ClusterCommands.tagsCell(new Tags(true, true, 1, true))).isEqualTo("nofailover noloadbalance nosync");
    assertThat(ClusterCommands.tagsCell(new Tags(false, false, 3, false, Map.of("rack", "3", "datacenter", "dc1"))))
        .isEqualTo("failover_priority=3 datacenter=dc1 rack=3");
  }
}
