package nfhot;

import groovy.json.JsonSlurper;
import java.io.File;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * What nfhot has patched, read from the same truth as nfhot: the labels of the images in the
 * engine's store, through the engine's own command line (the one the tasks run, with the run's
 * environment and engine options). One `image inspect` per distinct image and run; the answer is
 * kept for the rest of the run.
 */
final class Daemon {
    /** The label schema this plugin reads (nfhot's src/core/image/record.ts). */
    static final String SCHEMA = "1";
    private static final Pattern IMAGE_ID = Pattern.compile("sha256:[0-9a-f]{64}");
    private static final long TIMEOUT_SECONDS = 60;

    /** An image nfhot has patched: what its tasks run instead. */
    static final class Patch {
        /** The patched image, as Docker names it. */
        final String image;
        /** The patch set's immutable reference in nfhot's namespace. */
        final String derivative;
        /** What the tasks run: the registry's copy pinned by digest when pushed, else the derivative. */
        final String reference;
        /** Which packages, for the log: "seqstats 0.2.0, …". */
        final String packages;

        Patch(String image, String derivative, String reference, String packages) {
            this.image = image;
            this.derivative = derivative;
            this.reference = reference;
            this.packages = packages;
        }

        boolean pushed() {
            return !reference.equals(derivative);
        }
    }

    /** The engine's state cannot be read: the run goes on without routing through it. */
    static final class Unreadable extends Exception {
        /** Said once per run for the same key. */
        final String key;

        Unreadable(String key, String message) {
            super(message);
            this.key = key;
        }
    }

    private final List<String> command;
    private final boolean podman;
    private final Map<String, Optional<Patch>> known = new ConcurrentHashMap<>();
    /** Set when the engine cannot answer at all: no more asking it in this run. */
    private volatile Unreadable broken;

    /** `command`: the engine's command line up to its subcommand (e.g. podman --root DIR). */
    Daemon(List<String> command, boolean podman) {
        this.command = List.copyOf(command);
        this.podman = podman;
    }

    String describe() {
        return String.join(" ", command);
    }

    /** The patch of the image Docker or Podman would run under `name`, if nfhot patched it. */
    Optional<Patch> lookup(String name) throws Unreadable {
        ImageName ref = ImageName.parse(name);
        if (ref == null || ImageName.isNfhotRef(name)) return Optional.empty(); // a digest, a file, or an include's reference
        Optional<Patch> cached = known.get(ref.familiar);
        if (cached != null) return cached;
        synchronized (this) { // one inspect per image, and none after the engine failed
            cached = known.get(ref.familiar);
            if (cached != null) return cached;
            if (broken != null) throw broken;
            Optional<Patch> found;
            try {
                found = Optional.ofNullable(read(ref, inspect(name, ref.activeRef())));
            } catch (Unreadable e) {
                if (e.key.startsWith("engine:")) broken = e;
                throw e;
            }
            known.put(ref.familiar, found);
            return found;
        }
    }

    /**
     * The patch the two images say (the tag's, and nfhot's active reference for --keep-tag), as
     * nfhot's src/core/image/state.ts decides: an image is a patch set while its derivative's own
     * reference names it (an image built FROM a derivative inherits its labels).
     */
    Patch read(ImageName ref, List<Map<String, Object>> images) throws Unreadable {
        String active = ref.activeRef();
        Map<String, Object> tagged = null;
        Map<String, Object> activeImage = null;
        for (Map<String, Object> image : images) {
            if (tags(image).contains(active)) activeImage = image;
            else tagged = image;
        }
        Map<String, String> own = labels(ref, tagged);
        if (own != null && ref.familiar.equals(own.get("io.nfhot.image")) && tags(tagged).contains(own.get("io.nfhot.derivative"))) {
            return patch(ref, tagged, own);
        }
        Map<String, String> kept = labels(ref, activeImage);
        if (tagged != null && kept != null && ref.familiar.equals(kept.get("io.nfhot.image")) && tags(activeImage).contains(kept.get("io.nfhot.derivative"))
                && bareId(kept.get("io.nfhot.original")).equals(bareId(String.valueOf(tagged.get("Id"))))) {
            return patch(ref, activeImage, kept);
        }
        return null;
    }

    private Patch patch(ImageName ref, Map<String, Object> image, Map<String, String> labels) {
        String derivative = labels.get("io.nfhot.derivative");
        List<String> pushed = new ArrayList<>();
        if (podman) {
            // Podman pairs every name with every digest it knows: a push is the name by digest
            // nfhot gave the image when it pulled it back by the registry's digest.
            List<String> digests = strings(image.get("RepoDigests"));
            for (String n : strings(image.get("NamesHistory"))) if (n.contains("@") && digests.contains(n)) pushed.add(ImageName.familiar(n));
        } else {
            // Docker: a digest under another repository than the image's own is where it was pushed.
            for (String d : strings(image.get("RepoDigests"))) if (!d.substring(0, d.indexOf('@')).equals(ref.name)) pushed.add(d);
        }
        return new Patch(ref.familiar, derivative, pushed.isEmpty() ? derivative : pushed.get(0), packages(labels.get("io.nfhot.patches")));
    }

    /** nfhot's labels on an image, when they are nfhot's and of the schema this plugin reads. */
    private static Map<String, String> labels(ImageName ref, Map<String, Object> image) throws Unreadable {
        if (image == null) return null;
        Object config = image.get("Config");
        Object raw = config instanceof Map ? ((Map<?, ?>) config).get("Labels") : null;
        if (!(raw instanceof Map)) return null;
        Map<String, String> labels = new java.util.HashMap<>();
        for (Map.Entry<?, ?> e : ((Map<?, ?>) raw).entrySet()) labels.put(String.valueOf(e.getKey()), String.valueOf(e.getValue()));
        String schema = labels.get("io.nfhot.schema");
        if (schema == null) return null;
        if (!SCHEMA.equals(schema)) {
            throw new Unreadable("schema:" + schema, ref.familiar + " was patched by an nfhot whose labels (schema " + schema + ") this nf-hot cannot read: install the plugin of that nfhot (nfhot plugin install)");
        }
        String original = labels.get("io.nfhot.original");
        if (labels.get("io.nfhot.image") == null || labels.get("io.nfhot.derivative") == null || original == null || !IMAGE_ID.matcher(original).matches()) return null;
        return packages(labels.get("io.nfhot.patches")) == null ? null : labels;
    }

    /** The patches label's packages ("seqstats 0.2.0, …"); null when it is not a list of patch records (record.ts's isPatchRecord). */
    private static String packages(String json) {
        try {
            List<String> list = new ArrayList<>();
            for (Object p : (List<?>) new JsonSlurper().parseText(json)) {
                Map<?, ?> m = (Map<?, ?>) p;
                boolean record = Stream.of("package", "version", "source", "tree", "python").allMatch(k -> m.get(k) instanceof String)
                        && ("git".equals(m.get("kind")) || "dir".equals(m.get("kind"))) && m.get("noDeps") instanceof Boolean;
                if (!record) return null;
                list.add(m.get("package") + " " + m.get("version"));
            }
            return String.join(", ", list);
        } catch (RuntimeException e) {
            return null;
        }
    }

    private static List<String> tags(Map<String, Object> image) {
        if (image == null) return Collections.emptyList();
        List<String> out = new ArrayList<>();
        for (String t : strings(image.get("RepoTags"))) out.add(ImageName.familiar(t));
        return out;
    }

    private static List<String> strings(Object value) {
        List<String> out = new ArrayList<>();
        if (value instanceof List) for (Object v : (List<?>) value) if (v != null) out.add(v.toString());
        return out;
    }

    private static String bareId(String id) {
        return id == null ? "" : id.startsWith("sha256:") ? id.substring(7) : id;
    }

    /** `image inspect` of the names: the images the engine has (a missing name is no error), or Unreadable. */
    @SuppressWarnings("unchecked")
    private List<Map<String, Object>> inspect(String... names) throws Unreadable {
        List<String> argv = new ArrayList<>(command);
        argv.add("image");
        argv.add("inspect");
        Collections.addAll(argv, names);
        File out = null;
        File err = null;
        try {
            out = File.createTempFile("nf-hot-", ".json");
            err = File.createTempFile("nf-hot-", ".err");
            Process p = new ProcessBuilder(argv).redirectInput(ProcessBuilder.Redirect.from(new File("/dev/null"))).redirectOutput(out).redirectError(err).start();
            if (!p.waitFor(TIMEOUT_SECONDS, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new Unreadable("engine:timeout", "`" + describe() + " image inspect` did not answer in " + TIMEOUT_SECONDS + " s");
            }
            String stdout = new String(Files.readAllBytes(out.toPath()), StandardCharsets.UTF_8).trim();
            String stderr = new String(Files.readAllBytes(err.toPath()), StandardCharsets.UTF_8).trim();
            Object parsed = stdout.startsWith("[") ? new JsonSlurper().parseText(stdout) : null;
            if (p.exitValue() != 0 && !onlyMissing(stderr)) {
                String first = stderr.isEmpty() ? "exit " + p.exitValue() : stderr.split("\n")[0];
                throw new Unreadable("engine:" + first, "cannot read what nfhot patched from `" + describe() + "`: " + first);
            }
            return parsed instanceof List ? (List<Map<String, Object>>) parsed : Collections.emptyList();
        } catch (IOException e) {
            throw new Unreadable("engine:" + e.getMessage(), "cannot run `" + describe() + "` to read what nfhot patched: " + e.getMessage());
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new Unreadable("engine:interrupted", "interrupted while reading what nfhot patched");
        } catch (RuntimeException e) {
            throw new Unreadable("engine:output", "cannot read the answer of `" + describe() + " image inspect`: " + e);
        } finally {
            if (out != null) out.delete();
            if (err != null) err.delete();
        }
    }

    /** Whether every error line says a name is not there (Docker: "No such image", Podman: "image not known"). */
    private static boolean onlyMissing(String stderr) {
        if (stderr.isEmpty()) return false;
        for (String line : stderr.split("\n")) {
            String l = line.toLowerCase();
            if (!l.isBlank() && !l.contains("no such image") && !l.contains("image not known") && !l.contains("no such object")) return false;
        }
        return true;
    }
}
