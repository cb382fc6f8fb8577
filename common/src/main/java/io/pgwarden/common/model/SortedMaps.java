package io.pgwarden.common.model;

import java.util.Collections;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/** Read-only maps in key order, copied once and then handed on as they are. */
public final class SortedMaps {
  private static final Class<?> VIEW = Collections.unmodifiableSortedMap(new TreeMap<>()).getClass();

  private SortedMaps() {}

  /**
   * {@code map} itself when it is already a read-only sorted view in natural order, else such a view over a
   * sorted copy. The parameters pass from the config through PostgreSQL's node into every tick's probe state,
   * each a record that copied them: now the same map stays the same object all the way, so the check that they
   * are in effect is {@code ==} instead of a walk and a sort a tick. The project makes such views only over a
   * copy nobody else holds, so none can change under it.
   */
  @SuppressWarnings("unchecked")
  public static <V> Map<String, V> of(Map<String, V> map) {
    if (map.getClass() == VIEW && ((SortedMap<String, V>) map).comparator() == null) {
      return map;
    }
    return Collections.unmodifiableSortedMap(new TreeMap<>(map));
  }
}
