package io.pgwarden.common.model;

import static org.assertj.core.api.Assertions.assertThat;

import java.lang.reflect.Constructor;
import java.lang.reflect.RecordComponent;
import java.util.Arrays;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** The records whose equals and hashCode are written by hand: every component must count, and nothing else. */
class ValueEqualityTest {
  /** Two values of each component type that stay distinct through the canonical constructor's normalising. */
  private static final Map<Class<?>, Object[]> VALUES = Map.of(
      String.class, new Object[] {"a", "b"},
      Role.class, new Object[] {Role.REPLICA, Role.PRIMARY},
      Long.class, new Object[] {1L, 2L},
      Integer.class, new Object[] {1, 2},
      Lsn.class, new Object[] {new Lsn(1), new Lsn(2)},
      Boolean.class, new Object[] {Boolean.TRUE, Boolean.FALSE},
      Tags.class, new Object[] {Tags.NONE, new Tags(true, false, 1, false)},
      Map.class, new Object[] {Map.of("work_mem", "4MB"), Map.of("work_mem", "8MB")});

  @Test
  void everyComponentOfAMemberStatusCounts() throws Exception {
    everyComponentCounts(MemberStatus.class);
  }

  @Test
  void everyComponentOfTagsCounts() throws Exception {
    everyComponentCounts(Tags.class);
  }

  private static <R extends Record> void everyComponentCounts(Class<R> type) throws Exception {
    RecordComponent[] components = type.getRecordComponents();
    Constructor<R> canonical = type.getDeclaredConstructor(
        Arrays.stream(components).map(RecordComponent::getType).toArray(Class<?>[]::new));
    Object[] base = new Object[components.length];
    for (int i = 0; i < components.length; i++) {
      base[i] = values(components[i])[0];
    }
    R a = canonical.newInstance(base);
    R same = canonical.newInstance(base.clone());
    assertThat(a).isEqualTo(same).isNotSameAs(same);
    assertThat(a.hashCode()).isEqualTo(same.hashCode());
    for (int i = 0; i < components.length; i++) {
      Object[] changed = base.clone();
      changed[i] = values(components[i])[1];
      assertThat(canonical.newInstance(changed)).as(components[i].getName()).isNotEqualTo(a);
    }
    assertThat(a).isNotEqualTo(null).isNotEqualTo("a");
  }

  @Test
  void lsnsAreEqualByValue() {
    assertThat(new Lsn(0x16_B374D848L)).isEqualTo(Lsn.parse("16/B374D848")).isNotEqualTo(new Lsn(1))
        .hasSameHashCodeAs(Lsn.parse("16/B374D848")).isNotEqualTo(null);
  }

  private static Object[] values(RecordComponent c) {
    Object[] v = VALUES.get(c.getType());
    assertThat(v).as("test values for a %s component (%s)", c.getType().getSimpleName(), c.getName()).isNotNull();
    return v;
  }
}
