package dev.changeflow.router.service;

import static org.assertj.core.api.Assertions.assertThat;

import dev.changeflow.config.Settings;
import java.util.Map;
import org.junit.jupiter.api.Test;

class BearerTokenTest {
    private static final String TOKEN = "s3cret-token-0123456789";
    private final BearerToken token = BearerToken.of(TOKEN);

    @Test
    void onlyTheExactTokenAfterTheBearerSchemeIsAccepted() {
        assertThat(token.accepts("Bearer " + TOKEN)).isTrue();
        assertThat(token.accepts("bearer " + TOKEN)).as("the scheme is case-insensitive").isTrue();
        assertThat(token.accepts(null)).isFalse();
        assertThat(token.accepts("")).isFalse();
        assertThat(token.accepts("Bearer ")).isFalse();
        assertThat(token.accepts(TOKEN)).as("without the scheme").isFalse();
        assertThat(token.accepts("Basic " + TOKEN)).isFalse();
        assertThat(token.accepts("Bearer " + TOKEN.substring(1))).as("a suffix").isFalse();
        assertThat(token.accepts("Bearer " + TOKEN + "x")).as("longer").isFalse();
        assertThat(token.accepts("Bearer " + TOKEN.toUpperCase())).as("the token is case-sensitive").isFalse();
    }

    @Test
    void theTokenNeverShowsInItsStringForm() {
        assertThat(token.toString()).doesNotContain(TOKEN);
    }

    @Test
    void noConfiguredTokenMeansNone() {
        assertThat(BearerToken.from(Settings.of(Map.of()))).isEmpty();
        assertThat(BearerToken.from(Settings.of(Map.of("CHANGEFLOW_ADMIN_TOKEN", TOKEN)))).isPresent();
    }

    @Test
    void aGuardedEndpointIsOffWithoutATokenAndRefusesARequestWithoutTheRightOne() {
        assertThat(BearerToken.refusal(java.util.Optional.empty(), "Bearer " + TOKEN, "search"))
                .hasValueSatisfying(r -> {
                    assertThat(r.status()).isEqualTo(404);
                    assertThat(r.message()).startsWith("search is off").contains("CHANGEFLOW_ADMIN_TOKEN");
                });
        assertThat(BearerToken.refusal(java.util.Optional.of(token), null, "search"))
                .hasValueSatisfying(r -> assertThat(r.status()).isEqualTo(401));
        assertThat(BearerToken.refusal(java.util.Optional.of(token), "Bearer " + TOKEN, "search")).isEmpty();
    }
}
