package io.pgwarden.agent.watchdog;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ProcFileTest {
  @Test
  void eachReadReturnsTheWholeTextOfThatMoment(@TempDir Path dir) throws IOException {
    Path f = dir.resolve("stat");
    Files.writeString(f, "1 (bash) S 0");
    try (ProcFile file = new ProcFile(f)) {
      assertThat(file.read()).isEqualTo("1 (bash) S 0");
      Files.writeString(f, "1 (bash) T 0 and a longer line");
      assertThat(file.read()).isEqualTo("1 (bash) T 0 and a longer line");
      Files.writeString(f, "x".repeat(5000));
      assertThat(file.read()).as("more than the first buffer holds").hasSize(5000);
      Files.writeString(f, "short");
      assertThat(file.read()).isEqualTo("short");
    }
  }

  @Test
  void aFileThatCannotBeOpenedIsAnErrorEachTime(@TempDir Path dir) {
    ProcFile file = new ProcFile(dir.resolve("gone"));
    assertThatThrownBy(file::read).isInstanceOf(IOException.class);
    assertThatThrownBy(file::read).isInstanceOf(IOException.class);
  }
}
