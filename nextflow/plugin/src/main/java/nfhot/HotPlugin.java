package nfhot;

import nextflow.plugin.BasePlugin;
import org.pf4j.PluginWrapper;

/** nf-hot: gives every task the image nfhot patched for it (see HotContainerResolver). */
public class HotPlugin extends BasePlugin {
    public HotPlugin(PluginWrapper wrapper) {
        super(wrapper);
    }
}
