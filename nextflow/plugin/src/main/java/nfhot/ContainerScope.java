package nfhot;

import groovy.lang.MissingPropertyException;
import java.lang.reflect.Constructor;
import java.util.LinkedHashMap;
import java.util.Map;
import nextflow.container.ContainerHandler;
import org.codehaus.groovy.runtime.InvokerHelper;

/**
 * A task's container scope (docker, podman, singularity …), read the same way on every Nextflow
 * nf-hot supports. Up to 25.04 `ContainerConfig` is a Map subclass; from 25.07-edge it is an
 * interface implemented by typed scopes (DockerConfig, SingularityConfig …). A call compiled
 * against one (invokevirtual) does not link on the other (invokeinterface), so the scope is held
 * as an Object and read as Groovy reads it: a Map's key, else the scope's property.
 */
final class ContainerScope {
    private final Object config;

    ContainerScope(Object config) {
        this.config = config;
    }

    boolean enabled() {
        return Boolean.TRUE.equals(InvokerHelper.invokeMethod(config, "isEnabled", null));
    }

    String engine() {
        Object engine = InvokerHelper.invokeMethod(config, "getEngine", null);
        return engine == null ? null : engine.toString();
    }

    /** A setting of the scope (engineOptions, sudo, registry, cacheDir …); null when unset or unknown to it. */
    Object get(String name) {
        if (config instanceof Map) return ((Map<?, ?>) config).get(name);
        try {
            return InvokerHelper.getProperty(config, name);
        } catch (MissingPropertyException e) {
            return null;
        }
    }

    boolean isTrue(String name) {
        return "true".equals(String.valueOf(get(name)));
    }

    /**
     * The name Docker would run for `image` under this scope's registry settings: Nextflow's own
     * ContainerHandler does it, given a Docker scope of the running Nextflow's kind (a
     * ContainerConfig map up to 25.04, a DockerConfig after).
     */
    String dockerName(String image) throws ReflectiveOperationException {
        Map<String, Object> docker = new LinkedHashMap<>();
        docker.put("engine", "docker");
        for (String key : new String[] {"registry", "registryOverride"}) {
            Object value = get(key);
            if (value != null) docker.put(key, value);
        }
        Class<?> config = Class.forName("nextflow.container.ContainerConfig");
        Object scope = (config.isInterface() ? Class.forName("nextflow.container.DockerConfig") : config).getConstructor(Map.class).newInstance(docker);
        for (Constructor<?> c : ContainerHandler.class.getConstructors()) {
            if (c.getParameterCount() == 1 && c.getParameterTypes()[0].isInstance(scope)) return ((ContainerHandler) c.newInstance(scope)).normalizeImageName(image);
        }
        throw new NoSuchMethodException("ContainerHandler has no one-argument constructor");
    }
}
