package nfhot;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import groovy.json.JsonSlurper;
import java.io.File;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The rules nf-hot repeats from nfhot's TypeScript core, held to the cases the core's own test
 * reads (test/shared/plugin-cases.json, and test/core/shared-cases.test.ts): image names, nfhot's
 * references, SIF file names, what Wave's strategy builds a task's image from, and what nfhot's
 * labels on the engine's images say a task runs.
 */
class SharedCasesTest {
    @SuppressWarnings("unchecked")
    private static final Map<String, List<Map<String, Object>>> CASES = (Map<String, List<Map<String, Object>>>) new JsonSlurper().parse(new File("../../test/shared/plugin-cases.json"));

    @Test
    void imageNames() {
        assertTrue(CASES.get("imageNames").size() > 10);
        for (Map<String, Object> c : CASES.get("imageNames")) {
            String input = (String) c.get("input");
            ImageName name = ImageName.parse(input);
            if (Boolean.TRUE.equals(c.get("invalid"))) {
                assertNull(name, input);
                continue;
            }
            assertNotNull(name, input);
            assertEquals(c.get("name"), name.name, input);
            assertEquals(c.get("tag"), name.tag, input);
            assertEquals(c.get("familiar"), name.familiar, input);
            assertEquals(c.get("nfhotRepository"), name.nfhotRepository(), input);
            assertEquals(c.get("activeRef"), name.activeRef(), input);
        }
    }

    @Test
    void nfhotReferences() {
        for (Map<String, Object> c : CASES.get("nfhotRefs")) assertEquals(c.get("nfhot"), ImageName.isNfhotRef((String) c.get("reference")), (String) c.get("reference"));
    }

    @Test
    void sifNames() {
        for (Map<String, Object> c : CASES.get("sifNames")) assertEquals(c.get("sif"), HotContainerResolver.sifName((String) c.get("derivative")));
    }

    @Test
    void waveStrategies() {
        for (Map<String, Object> c : CASES.get("waveStrategies")) {
            List<?> has = (List<?>) c.get("has");
            String built = HotContainerResolver.buildsFrom(HotContainerResolver.strategyOf(c.get("strategy")), has.contains("conda"), has.contains("spack"), has.contains("dockerfile"));
            assertEquals(c.get("buildsFrom"), built, c.toString());
        }
    }

    @Test
    @SuppressWarnings("unchecked")
    void patchStates() throws Daemon.Unreadable {
        assertTrue(CASES.get("patchStates").size() > 8);
        Daemon docker = new Daemon(List.of("docker"), false);
        for (Map<String, Object> c : CASES.get("patchStates")) {
            ImageName ref = ImageName.parse((String) c.get("image"));
            // What `docker image inspect IMAGE ACTIVE-REF` gives: the images that have those names.
            List<Map<String, Object>> inspected = new ArrayList<>();
            for (Map<String, Object> image : (List<Map<String, Object>>) c.get("images")) {
                List<String> tags = (List<String>) image.get("repoTags");
                if (!tags.contains(ref.familiar) && !tags.contains(ref.activeRef())) continue;
                Map<String, Object> inspect = new HashMap<>();
                inspect.put("Id", image.get("id"));
                inspect.put("RepoTags", tags);
                inspect.put("RepoDigests", image.get("repoDigests"));
                inspect.put("Config", Map.of("Labels", image.get("labels")));
                inspected.add(inspect);
            }
            Daemon.Patch patch = docker.read(ref, inspected);
            Map<String, Object> expected = (Map<String, Object>) c.get("patched");
            Map<String, Object> runs = patch == null ? null : Map.of("derivative", patch.derivative, "reference", patch.reference);
            assertEquals(expected, runs, (String) c.get("why"));
        }
    }
}
