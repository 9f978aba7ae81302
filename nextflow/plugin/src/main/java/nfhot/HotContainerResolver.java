package nfhot;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.regex.Pattern;
import nextflow.Global;
import nextflow.Session;
import nextflow.container.resolver.ContainerInfo;
import nextflow.container.resolver.ContainerResolver;
import nextflow.container.resolver.DefaultContainerResolver;
import nextflow.plugin.Plugins;
import nextflow.plugin.Priority;
import nextflow.processor.TaskRun;
import org.pf4j.Extension;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Sees each task's container after Nextflow evaluated it (params, closures, task.ext, profiles,
 * docker.registry) and, when nfhot has patched that image, gives the task the patch set's
 * immutable reference, as target and as hash key: -resume reruns exactly the patched tasks, and
 * after a rollback the original's cached results come back. Every other container goes to the
 * resolver that would have had it without this plugin (Nextflow's own, or Wave's), unchanged.
 *
 * It never breaks a run: whatever goes wrong is one warning, and the container Nextflow computed.
 * The lowest priority value wins: below nf-wave's -10.
 *
 * One build serves Nextflow 24.10 to 26.x. Like Wave's resolver it builds on Nextflow's
 * DefaultContainerResolver, whose resolveImage normalises names (docker.registry). It gives every
 * method of 25.04's ContainerResolver: enabled (true, Default's final one), defaultContainerPlatform
 * and getContainerMeta, Default's for the references it gives itself. Those three are inherited,
 * not declared here, because 24.10's Groovy reflects on every method of the resolver it calls and
 * fails on a signature naming a class 24.10 lacks (ContainerMeta). The container scope is read
 * through ContainerScope (a Map up to 25.04, typed scopes after).
 */
@Extension
@Priority(-20)
public class HotContainerResolver extends DefaultContainerResolver {
    private static final Logger log = LoggerFactory.getLogger(HotContainerResolver.class);
    /** Nextflow's test for an image URL (docker://, library://, shub://, oras://, https://…). */
    private static final Pattern URL = Pattern.compile("^[^/:. ]+://.*");

    private volatile ContainerResolver next;
    /** One reader of each engine's store per engine command line (engine options included). */
    private final Map<List<String>, Daemon> daemons = new ConcurrentHashMap<>();
    /** References this plugin gave a task itself, without the next resolver (Wave): ready at once. */
    private final Set<String> direct = ConcurrentHashMap.newKeySet();
    private final Set<String> said = ConcurrentHashMap.newKeySet();

    @Override
    public ContainerInfo resolveImage(TaskRun task, String imageName) {
        try {
            ContainerInfo routed = route(task, imageName);
            if (routed != null) return routed;
        } catch (Daemon.Unreadable e) {
            warnOnce(e.key, e.getMessage() + "; tasks run the containers Nextflow named");
        } catch (Exception | LinkageError e) {
            warnOnce("error:" + e, "cannot route " + imageName + ": " + e + "; tasks run the containers Nextflow named");
        }
        return next().resolveImage(task, imageName);
    }

    @Override
    public boolean isContainerReady(String key) {
        return direct.contains(key) || next().isContainerReady(key);
    }

    /** 25.04+: the platform of the resolver that would have had the task (Wave's, when it is on). */
    @Override
    public String defaultContainerPlatform() {
        return next().defaultContainerPlatform();
    }

    /** The task's container when nfhot patched its image; null for what Nextflow computes without this plugin. */
    private ContainerInfo route(TaskRun task, String imageName) throws Daemon.Unreadable, ReflectiveOperationException {
        if (task == null) return null;
        Object scope = task.getContainerConfig();
        if (imageName == null || imageName.isEmpty() || scope == null) return null;
        ContainerScope config = new ContainerScope(scope);
        if (!config.enabled()) return null;
        String engine = config.engine();
        if ("docker".equals(engine) || "podman".equals(engine)) return routeOci(task, config, engine, imageName);
        if ("singularity".equals(engine) || "apptainer".equals(engine)) return routeSif(task, config, engine, imageName);
        warnOnce("engine:" + engine, "the " + engine + " engine is not one nf-hot knows (docker, podman, singularity, apptainer): its tasks run the containers Nextflow named, patched or not");
        return null;
    }

    /** Docker and Podman: the image the engine would run, looked up where it runs it. */
    private ContainerInfo routeOci(TaskRun task, ContainerScope config, String engine, String imageName) throws Daemon.Unreadable {
        ContainerInfo nextflows = super.resolveImage(task, imageName);
        String target = nextflows.getTarget();
        Optional<Daemon.Patch> found = daemon(engine, config).lookup(target);
        if (found.isEmpty()) return null;
        Daemon.Patch patch = found.get();
        said(patch);
        String executor = executorOf(task);
        if (!patch.pushed() && !"local".equals(executor)) {
            // The include does the same: the task fails to pull, naming the reference, rather than run the original unseen.
            warnOnce("executor:" + patch.image, patch.image + " is patched only in this machine's " + engine + ", and its tasks run on the '" + executor + "' executor, whose nodes pull "
                    + patch.reference + " from a registry: they cannot; push the patch to a registry they reach (nfhot push REGISTRY, or nfhot patch … --push REGISTRY)");
        }
        Map<?, ?> wave = waveConfig();
        if (wave != null) {
            // The Wave service pulls the image itself: a registry's copy it can, this machine's daemon it cannot;
            // and a strategy that puts conda, spack or a Dockerfile first builds the task's image from that instead.
            if (!patch.pushed()) {
                warnOnce("wave:" + patch.image, "Wave is on, and the Wave service cannot pull " + patch.image + "'s patch from this machine's " + engine + ": its tasks run "
                        + patch.reference + " directly, not through Wave (nfhot push it to a registry Wave reaches to keep Wave for them)");
            } else {
                String builds = waveBuildsFrom(task, wave);
                if (builds == null) return next().resolveImage(task, patch.reference);
                warnOnce("wave:" + patch.image + builds, "Wave is on, and Wave's strategy would build their image from their " + builds + ", not from the patch: tasks of "
                        + patch.image + " with a " + builds + " run " + patch.reference + " directly, not through Wave");
            }
        }
        direct.add(patch.reference);
        return new ContainerInfo(nextflows.getSource(), patch.reference, patch.reference);
    }

    /**
     * Singularity and Apptainer run a Docker name from a SIF file in their cache: the patch set's
     * SIF when nfhot built one there (patch --singularity), else the pushed patch by digest
     * (docker://REGISTRY/…@sha256:…, pulled and converted by Nextflow), else the original and a warning.
     */
    private ContainerInfo routeSif(TaskRun task, ContainerScope config, String engine, String imageName) throws Daemon.Unreadable, ReflectiveOperationException {
        String docker = dockerName(config, imageName);
        if (docker == null) return null;
        Optional<Daemon.Patch> found = daemon("docker", new ContainerScope(Map.of())).lookup(docker);
        if (found.isEmpty()) return null;
        Daemon.Patch patch = found.get();
        String file = sifName(patch.derivative);
        for (Path dir : sifDirs(engine, config)) {
            Path sif = dir.resolve(file);
            if (Files.isRegularFile(sif)) {
                said(patch);
                return next().resolveImage(task, sif.toAbsolutePath().toString());
            }
        }
        if (patch.pushed()) {
            // The registry's copy, by digest: Nextflow pulls and converts it into its cache, here or on the executor's nodes.
            said(patch);
            return next().resolveImage(task, "docker://" + patch.reference);
        }
        warnOnce("sif:" + patch.derivative, patch.image + " is patched (" + patch.packages + "), but nfhot built no " + engine + " image of the patch in " + sifDirs(engine, config).get(0)
                + ": its tasks run the original (nfhot push REGISTRY for " + engine + " to pull the patch by digest, or nfhot patch --singularity to build it here)");
        return null;
    }

    /** The executor the task runs on (Nextflow's name for it: local, slurm, awsbatch, …). */
    private static String executorOf(TaskRun task) {
        try {
            return task.getProcessor().getExecutor().getName();
        } catch (RuntimeException e) {
            return "local";
        }
    }

    /** The Docker name a Singularity/Apptainer container stands for; null for a file or another scheme. */
    private static String dockerName(ContainerScope config, String img) throws ReflectiveOperationException {
        if (img.startsWith("docker://")) return img.substring("docker://".length());
        if (img.startsWith("/") || img.startsWith("file://") || URL.matcher(img).matches() || Files.exists(Paths.get(img))) return null;
        // Nextflow prefixes a relative name with the engine's registry for Singularity too.
        return config.dockerName(img);
    }

    /** The file nfhot builds for a patch set (src/core/image/singularity.ts). */
    static String sifName(String derivative) {
        return derivative.replaceAll("[:/]", "-") + ".sif";
    }

    /**
     * Where Nextflow keeps the engine's images: `<engine>.cacheDir`, else NXF_<ENGINE>_CACHEDIR,
     * else <ENGINE>_PULLFOLDER, else <workDir>/singularity; then the other engine's, as nfhot looks in both.
     */
    private static List<Path> sifDirs(String engine, ContainerScope config) {
        List<Path> dirs = new ArrayList<>();
        for (String e : "apptainer".equals(engine) ? Arrays.asList("apptainer", "singularity") : Arrays.asList("singularity", "apptainer")) {
            String prefix = e.toUpperCase();
            Object configured = e.equals(engine) ? config.get("cacheDir") : null;
            String dir = configured != null ? configured.toString() : firstSet(System.getenv("NXF_" + prefix + "_CACHEDIR"), System.getenv(prefix + "_PULLFOLDER"));
            dirs.add(dir != null ? Paths.get(dir).toAbsolutePath() : workDir().resolve("singularity"));
        }
        return dirs;
    }

    private static String firstSet(String... values) {
        for (String v : values) if (v != null && !v.isEmpty()) return v;
        return null;
    }

    private static Path workDir() {
        Object session = Global.getSession();
        return session instanceof Session ? ((Session) session).getWorkDir() : Paths.get("work").toAbsolutePath();
    }

    /** The engine's command line as the tasks run it: sudo, and the engine options, included. */
    private Daemon daemon(String engine, ContainerScope config) {
        List<String> command = new ArrayList<>();
        if (config.isTrue("sudo")) command.add("sudo");
        command.add(engine);
        Object options = config.get("engineOptions");
        if (options != null) command.addAll(Words.split(options.toString()));
        return daemons.computeIfAbsent(command, c -> new Daemon(c, "podman".equals(engine)));
    }

    /** The session's `wave` scope when Wave is enabled, else null. */
    private static Map<?, ?> waveConfig() {
        Object session = Global.getSession();
        Object wave = session instanceof Session ? ((Session) session).getConfig().get("wave") : null;
        Object enabled = wave instanceof Map ? ((Map<?, ?>) wave).get("enabled") : null;
        return Boolean.TRUE.equals(enabled) || "true".equals(String.valueOf(enabled)) ? (Map<?, ?>) wave : null;
    }

    /** nf-wave's strategy when none is set (WaveConfig's DEF_STRATEGIES). */
    private static final List<String> WAVE_STRATEGY = Arrays.asList("container", "dockerfile", "conda");

    /**
     * What Wave builds the task's image from instead of its container (nf-wave's resolveConflicts:
     * the first of wave.strategy the task has wins): "conda environment", "spack environment",
     * "module Dockerfile"; null when the container comes first.
     */
    private static String waveBuildsFrom(TaskRun task, Map<?, ?> wave) {
        boolean dockerfile = task.getModuleBundle() != null && task.getModuleBundle().getDockerfile() != null;
        return buildsFrom(strategyOf(wave.get("strategy")), has(task, "conda"), has(task, "spack"), dockerfile);
    }

    private static boolean has(TaskRun task, String directive) {
        return !String.valueOf(Optional.ofNullable(task.getConfig().get(directive)).orElse("")).isEmpty();
    }

    /** wave.strategy as nf-wave reads it: a list, or comma-separated; empty or unset is its default. */
    static List<String> strategyOf(Object configured) {
        List<String> strategy = new ArrayList<>();
        if (configured instanceof List) for (Object o : (List<?>) configured) strategy.add(String.valueOf(o).trim());
        else if (configured != null) for (String o : configured.toString().split(",")) strategy.add(o.trim());
        strategy.removeIf(String::isEmpty);
        return strategy.isEmpty() ? WAVE_STRATEGY : strategy;
    }

    /** The first of the strategy the task has wins; null when it is the container (the core's waveBuildsFrom, test/shared). */
    static String buildsFrom(List<String> strategy, boolean conda, boolean spack, boolean dockerfile) {
        for (String s : strategy) {
            if ("container".equals(s)) return null;
            if ("conda".equals(s) && conda || "spack".equals(s) && spack) return s + " environment";
            if ("dockerfile".equals(s) && dockerfile) return "module Dockerfile";
        }
        return null;
    }

    /** The resolver that would have had the task without this plugin: the next by priority. */
    private ContainerResolver next() {
        ContainerResolver n = next;
        if (n != null) return n;
        synchronized (this) {
            if (next == null) {
                ContainerResolver found = null;
                try {
                    for (ContainerResolver r : Plugins.getPriorityExtensions(ContainerResolver.class)) {
                        if (!(r instanceof HotContainerResolver) && enabled(r)) {
                            found = r;
                            break;
                        }
                    }
                } catch (RuntimeException e) {
                    warnOnce("next", "cannot list Nextflow's container resolvers (" + e + "): using its default one");
                }
                next = found != null ? found : new DefaultContainerResolver();
            }
            return next;
        }
    }

    /** 25.04+ lists resolvers that are off (nf-wave's without Wave); 24.10 has no enabled(): every resolver it lists is on. */
    private static boolean enabled(ContainerResolver resolver) {
        try {
            return resolver.enabled();
        } catch (NoSuchMethodError | AbstractMethodError e) {
            return true;
        }
    }

    private void said(Daemon.Patch patch) {
        if (said.add("patched:" + patch.image)) log.info("nf-hot: {} is patched ({}): its tasks run {}", patch.image, patch.packages, patch.reference);
    }

    private void warnOnce(String key, String message) {
        if (said.add(key)) log.warn("nf-hot: " + message);
    }
}
