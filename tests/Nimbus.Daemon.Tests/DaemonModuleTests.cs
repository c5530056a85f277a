using Nimbus.Daemon.Identity;
using Nimbus.Daemon.Images;
using Nimbus.Daemon.Objects;
using Nimbus.Daemon.Virt;
using Nimbus.Platform.Data;

namespace Nimbus.Daemon.Tests;

/// <summary>nimbusd composes its services from one module each, by role.</summary>
public sealed class DaemonModuleTests
{
    [Fact]
    public void The_all_in_one_runs_every_module()
    {
        Assert.All(NimbusDaemon.Modules, module => Assert.True(module.RunsIn(DaemonRole.All), module.GetType().Name));
    }

    [Fact]
    public void A_storage_node_runs_the_platform_virt_and_objects_modules_only()
    {
        var running = NimbusDaemon.Modules.Where(m => m.RunsIn(DaemonRole.Storage)).Select(m => m.GetType()).ToList();

        Assert.Equal([typeof(PlatformModule), typeof(VirtModule), typeof(ObjectsModule)], running);
    }

    [Fact]
    public void Every_modules_options_are_accepted_whatever_the_role()
    {
        Assert.Equal(
            new HashSet<Type> { typeof(DaemonOptions), typeof(DataOptions), typeof(VirtOptions), typeof(IdentityOptions), typeof(ImagesOptions), typeof(ObjectsOptions) },
            NimbusDaemon.OptionsTypes.ToHashSet());
        Assert.Equal(NimbusDaemon.OptionsTypes.Count(), NimbusDaemon.OptionsTypes.Distinct().Count());
    }
}
