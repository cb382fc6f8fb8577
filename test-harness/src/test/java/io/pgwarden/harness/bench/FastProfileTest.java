package io.pgwarden.harness.bench;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import io.pgwarden.common.model.DynamicConfig;
import java.util.Map;
import org.junit.jupiter.api.Test;

class FastProfileTest {
  @Test
  void theDefaultProfileIsAValidClusterConfigWithATtlUnderFiveSeconds() {
    FastProfile p = FastProfile.DEFAULT;
    // The record validates like the agent does (loop_wait + 2 * retry_timeout <= ttl, ...).
    DynamicConfig c = new DynamicConfig(p.ttl(), p.loopWait(), p.retryTimeout(), null, null, null, null, null);

    assertThat(c.ttl()).isLessThan(5);
    assertThat(p.config()).isEqualTo(Map.of("ttl", 4, "loop_wait", 1, "retry_timeout", 1));
    assertThat(p.setConfigArgs()).containsExactly("ttl=4", "loop_wait=1", "retry_timeout=1");
    assertThat(p.label()).isEqualTo("fast: ttl 4, loop_wait 1, retry_timeout 1, sync on");
  }

  @Test
  void anotherProfileIsReadFromThePropertyValue() {
    assertThat(FastProfile.parse(" 5, 1 ,2")).isEqualTo(new FastProfile(5, 1, 2));
  }

  @Test
  void aMalformedValueIsRejectedWithWhatItShouldLookLike() {
    for (String bad : new String[] {"5,1", "5,1,2,3", "five,1,2", ""}) {
      assertThatThrownBy(() -> FastProfile.parse(bad)).isInstanceOf(IllegalArgumentException.class)
          .hasMessageContaining("TTL,LOOP_WAIT,RETRY_TIMEOUT").hasMessageContaining("'" + bad + "'");
    }
  }
}
