using Nimbus.TestSupport;
using Nimbus.Virt.Drivers;

namespace Nimbus.Virt.Tests;

/// <summary>
/// What every hypervisor driver must do, run against each driver (test here, qemu in its own
/// project). A driver's test class supplies the driver and a bootable domain's XML.
/// </summary>
[System.Diagnostics.CodeAnalysis.SuppressMessage("Design", "CA1001", Justification = "xunit disposes it through IAsyncLifetime.DisposeAsync")]
public abstract class HypervisorDriverConformance : IAsyncLifetime
{
    private readonly TempDirectory _directory = new();
    private IHypervisorDriver? _driver;

    protected IHypervisorDriver Driver => _driver ?? throw new InvalidOperationException("not initialised");

    protected string Scratch => _directory.Path;

    /// <summary>A fresh driver whose state lives under <paramref name="stateDirectory"/>.</summary>
    protected abstract Task<IHypervisorDriver> CreateDriverAsync(string stateDirectory);

    /// <summary>XML of a domain the driver can start, named <paramref name="name"/> with a fresh UUID.</summary>
    protected abstract string BootableDomainXml(string name);

    /// <summary>How long a started guest may take to answer ACPI power-off.</summary>
    protected virtual TimeSpan ShutdownGrace => TimeSpan.FromSeconds(5);

    public async Task InitializeAsync() => _driver = await CreateDriverAsync(_directory.Combine("state"));

    public async Task DisposeAsync()
    {
        if (_driver is not null)
        {
            foreach (var domain in await _driver.ListDomainsAsync(ListFilter.Active, CancellationToken.None))
            {
                await _driver.DestroyDomainAsync(domain.Name, CancellationToken.None);
            }

            await _driver.DisposeAsync();
        }

        _directory.Dispose();
    }

    [Fact]
    public async Task Defined_domain_is_found_by_name_and_uuid_and_listed_as_shut_off()
    {
        var defined = await Driver.DefineDomainAsync(BootableDomainXml("alpha"), default);

        var byName = await Driver.LookupDomainAsync("alpha", default);
        var byUuid = await Driver.LookupDomainAsync(defined.Uuid.ToString(), default);
        var inactive = await Driver.ListDomainsAsync(ListFilter.Inactive, default);

        Assert.Equal(defined.Uuid, byName.Uuid);
        Assert.Equal("alpha", byUuid.Name);
        Assert.Equal(DomainState.Shutoff, byName.Status.State);
        Assert.Null(byName.Id);
        Assert.Contains(inactive, d => d.Name == "alpha");
    }

    [Fact]
    public async Task Dumpxml_is_canonical_and_keeps_the_generated_uuid_and_macs()
    {
        var defined = await Driver.DefineDomainAsync(BootableDomainXml("beta"), default);

        var dumped = await Driver.GetDomainXmlAsync("beta", default);
        var again = await Driver.GetDomainXmlAsync("beta", default);

        Assert.Equal(Definitions.DomainXml.Format(Definitions.DomainXml.Parse(dumped)), dumped);
        Assert.Equal(dumped, again);
        Assert.Contains($"<uuid>{defined.Uuid}</uuid>", dumped, StringComparison.Ordinal);
        Assert.Contains("<name>beta</name>", dumped, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Defining_again_with_the_same_name_and_uuid_replaces_the_configuration()
    {
        var first = await Driver.DefineDomainAsync(BootableDomainXml("gamma"), default);
        var changed = (await Driver.GetDomainXmlAsync("gamma", default)).Replace("<vcpu placement='static'>1</vcpu>", "<vcpu placement='static'>2</vcpu>", StringComparison.Ordinal);

        var second = await Driver.DefineDomainAsync(changed, default);

        Assert.Equal(first.Uuid, second.Uuid);
        Assert.Contains("<vcpu placement='static'>2</vcpu>", await Driver.GetDomainXmlAsync("gamma", default), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Same_name_with_another_uuid_is_refused_and_changes_nothing()
    {
        var original = await Driver.DefineDomainAsync(BootableDomainXml("delta"), default);
        var before = await Driver.GetDomainXmlAsync("delta", default);

        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.DefineDomainAsync(BootableDomainXml("delta"), default));

        Assert.Equal(VirtErrorCode.AlreadyExists, error.Code);
        Assert.Contains(original.Uuid.ToString(), error.Message, StringComparison.Ordinal);
        Assert.Equal(before, await Driver.GetDomainXmlAsync("delta", default));
    }

    [Fact]
    public async Task Same_uuid_with_another_name_is_refused()
    {
        var original = await Driver.DefineDomainAsync(BootableDomainXml("epsilon"), default);
        var renamed = (await Driver.GetDomainXmlAsync("epsilon", default)).Replace("<name>epsilon</name>", "<name>zeta</name>", StringComparison.Ordinal);

        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.DefineDomainAsync(renamed, default));

        Assert.Equal(VirtErrorCode.AlreadyExists, error.Code);
        await Assert.ThrowsAsync<VirtException>(() => Driver.LookupDomainAsync("zeta", default));
        Assert.Equal(original.Uuid, (await Driver.LookupDomainAsync("epsilon", default)).Uuid);
    }

    [Fact]
    public async Task Domain_whose_disk_source_is_missing_is_refused_and_not_defined()
    {
        var xml = Definitions.DomainXml.Format(Definitions.DomainXml.Parse(BootableDomainXml("eta")) with
        {
            Disks = [new Definitions.DiskDevice { Source = Path.Combine(Scratch, "absent.qcow2"), Format = Definitions.DiskFormat.Qcow2, TargetDev = "vdz" }],
        });

        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.DefineDomainAsync(xml, default));

        Assert.Equal(VirtErrorCode.XmlError, error.Code);
        Assert.Contains("absent.qcow2", error.Message, StringComparison.Ordinal);
        var missing = await Assert.ThrowsAsync<VirtException>(() => Driver.LookupDomainAsync("eta", default));
        Assert.Equal(VirtErrorCode.NoDomain, missing.Code);
    }

    [Fact]
    public async Task Operations_on_an_unknown_domain_say_it_was_not_found()
    {
        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.StartDomainAsync("nosuch", default));

        Assert.Equal(VirtErrorCode.NoDomain, error.Code);
        Assert.Contains("'nosuch'", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_runs_the_domain_with_an_id_and_a_second_start_is_refused()
    {
        await Driver.DefineDomainAsync(BootableDomainXml("theta"), default);

        await Driver.StartDomainAsync("theta", default);
        var running = await Driver.LookupDomainAsync("theta", default);
        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.StartDomainAsync("theta", default));

        Assert.Equal(DomainStatus.Booted, running.Status);
        Assert.NotNull(running.Id);
        Assert.Equal(VirtErrorCode.OperationInvalid, error.Code);
        Assert.Contains(await Driver.ListDomainsAsync(ListFilter.Active, default), d => d.Name == "theta");
    }

    [Fact]
    public async Task Destroy_stops_at_once_with_reason_destroyed()
    {
        await Driver.DefineDomainAsync(BootableDomainXml("iota"), default);
        await Driver.StartDomainAsync("iota", default);

        await Driver.DestroyDomainAsync("iota", default);

        Assert.Equal(new DomainStatus(DomainState.Shutoff, "destroyed"), await Driver.GetDomainStateAsync("iota", default));
        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.DestroyDomainAsync("iota", default));
        Assert.Equal(VirtErrorCode.OperationInvalid, error.Code);
    }

    [Fact]
    public async Task Shutdown_powers_the_guest_off_with_reason_shutdown()
    {
        await Driver.DefineDomainAsync(BootableDomainXml("kappa"), default);
        await Driver.StartDomainAsync("kappa", default);
        await WaitUntilGuestIsUpAsync("kappa");

        await Driver.ShutdownDomainAsync("kappa", default);

        Assert.Equal(new DomainStatus(DomainState.Shutoff, "shutdown"), await WaitForStateAsync("kappa", DomainState.Shutoff, ShutdownGrace));
    }

    [Fact]
    public async Task Suspend_pauses_and_resume_unpauses()
    {
        await Driver.DefineDomainAsync(BootableDomainXml("lambda"), default);
        await Driver.StartDomainAsync("lambda", default);

        await Driver.SuspendDomainAsync("lambda", default);
        var paused = await Driver.GetDomainStateAsync("lambda", default);
        await Driver.ResumeDomainAsync("lambda", default);

        Assert.Equal(new DomainStatus(DomainState.Paused, "user"), paused);
        Assert.Equal(new DomainStatus(DomainState.Running, "unpaused"), await Driver.GetDomainStateAsync("lambda", default));
        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.ResumeDomainAsync("lambda", default));
        Assert.Equal(VirtErrorCode.OperationInvalid, error.Code);
    }

    [Fact]
    public async Task Managed_save_stops_the_domain_and_the_next_start_restores_it()
    {
        await Driver.DefineDomainAsync(BootableDomainXml("mu"), default);
        await Driver.StartDomainAsync("mu", default);

        await Driver.ManagedSaveDomainAsync("mu", default);
        var saved = await Driver.LookupDomainAsync("mu", default);
        await Driver.StartDomainAsync("mu", default);

        Assert.Equal(new DomainStatus(DomainState.Shutoff, "saved"), saved.Status);
        Assert.True(saved.HasManagedSave);
        Assert.Equal(new DomainStatus(DomainState.Running, "restored"), await Driver.GetDomainStateAsync("mu", default));
        Assert.False((await Driver.LookupDomainAsync("mu", default)).HasManagedSave);
    }

    [Fact]
    public async Task Undefine_is_refused_while_a_managed_save_image_exists_unless_asked_to_remove_it()
    {
        await Driver.DefineDomainAsync(BootableDomainXml("nu"), default);
        await Driver.StartDomainAsync("nu", default);
        await Driver.ManagedSaveDomainAsync("nu", default);

        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.UndefineDomainAsync("nu", UndefineOptions.None, default));
        await Driver.UndefineDomainAsync("nu", UndefineOptions.ManagedSave, default);

        Assert.Contains("managed save", error.Message, StringComparison.Ordinal);
        await Assert.ThrowsAsync<VirtException>(() => Driver.LookupDomainAsync("nu", default));
    }

    [Fact]
    public async Task Undefining_a_running_domain_leaves_it_running_as_transient_until_it_stops()
    {
        await Driver.DefineDomainAsync(BootableDomainXml("xi"), default);
        await Driver.StartDomainAsync("xi", default);

        await Driver.UndefineDomainAsync("xi", UndefineOptions.None, default);
        var transient = await Driver.LookupDomainAsync("xi", default);
        await Driver.DestroyDomainAsync("xi", default);

        Assert.False(transient.Persistent);
        Assert.True(transient.Status.IsActive);
        var gone = await Assert.ThrowsAsync<VirtException>(() => Driver.LookupDomainAsync("xi", default));
        Assert.Equal(VirtErrorCode.NoDomain, gone.Code);
    }

    [Fact]
    public async Task Save_to_a_file_and_restore_brings_the_domain_back_running()
    {
        await Driver.DefineDomainAsync(BootableDomainXml("omicron"), default);
        await Driver.StartDomainAsync("omicron", default);
        var file = Path.Combine(Scratch, "omicron.save");

        await Driver.SaveDomainAsync("omicron", file, default);
        var saved = await Driver.GetDomainStateAsync("omicron", default);
        var restored = await Driver.RestoreDomainAsync(file, default);

        Assert.Equal(new DomainStatus(DomainState.Shutoff, "saved"), saved);
        Assert.True(File.Exists(file));
        Assert.Equal("omicron", restored.Name);
        Assert.Equal(new DomainStatus(DomainState.Running, "restored"), await Driver.GetDomainStateAsync("omicron", default));
    }

    [Fact]
    public async Task Restore_of_a_file_that_is_not_a_save_image_is_refused()
    {
        var file = Path.Combine(Scratch, "junk.save");
        await File.WriteAllTextAsync(file, "not a save image");

        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.RestoreDomainAsync(file, default));

        Assert.Equal(VirtErrorCode.OperationFailed, error.Code);
    }

    [Fact]
    public async Task Autostart_is_remembered_and_listed()
    {
        await Driver.DefineDomainAsync(BootableDomainXml("pi"), default);

        await Driver.SetAutostartAsync("pi", true, default);

        Assert.True((await Driver.LookupDomainAsync("pi", default)).Autostart);
    }

    [Fact]
    public async Task Dominfo_reports_memory_and_vcpus_of_the_definition()
    {
        var defined = await Driver.DefineDomainAsync(BootableDomainXml("rho"), default);
        var definition = Definitions.DomainXml.Parse(await Driver.GetDomainXmlAsync("rho", default));

        var info = await Driver.GetDomainInfoAsync("rho", default);

        Assert.Equal(defined.Uuid, info.Summary.Uuid);
        Assert.Equal(definition.MemoryKiB, info.MaxMemoryKiB);
        Assert.Equal(definition.Vcpus, info.Vcpus);
        Assert.Equal("hvm", info.OsType);
    }

    [Fact]
    public async Task Block_stats_of_a_disk_the_domain_does_not_have_are_refused()
    {
        await Driver.DefineDomainAsync(BootableDomainXml("sigma"), default);
        await Driver.StartDomainAsync("sigma", default);

        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.GetBlockStatsAsync("sigma", "vdq", default));

        Assert.Equal(VirtErrorCode.InvalidArgument, error.Code);
    }

    [Fact]
    public async Task Different_domains_start_and_stop_in_parallel()
    {
        var names = Enumerable.Range(0, 4).Select(i => $"par{i}").ToList();
        foreach (var name in names)
        {
            await Driver.DefineDomainAsync(BootableDomainXml(name), default);
        }

        await Task.WhenAll(names.Select(n => Driver.StartDomainAsync(n, default)));
        var active = await Driver.ListDomainsAsync(ListFilter.Active, default);
        await Task.WhenAll(names.Select(n => Driver.DestroyDomainAsync(n, default)));

        Assert.All(names, n => Assert.Contains(active, d => d.Name == n));
        Assert.Equal(names.Count, active.Where(d => names.Contains(d.Name)).Select(d => d.Id).Distinct().Count());
    }

    [Fact]
    public async Task Concurrent_starts_of_one_domain_start_it_exactly_once()
    {
        await Driver.DefineDomainAsync(BootableDomainXml("tau"), default);

        var attempts = await Task.WhenAll(Enumerable.Range(0, 6).Select(async _ =>
        {
            try
            {
                await Driver.StartDomainAsync("tau", default);
                return true;
            }
            catch (VirtException ex) when (ex.Code == VirtErrorCode.OperationInvalid)
            {
                return false;
            }
        }));

        Assert.Equal(1, attempts.Count(started => started));
        Assert.Equal(DomainState.Running, (await Driver.GetDomainStateAsync("tau", default)).State);
    }

    [Fact]
    public async Task Screenshot_of_a_domain_without_video_is_refused_before_anything_is_written()
    {
        await Driver.DefineDomainAsync(BootableDomainXml("phi"), default);
        await Driver.StartDomainAsync("phi", default);
        using var image = new MemoryStream();

        var error = await Assert.ThrowsAsync<VirtException>(() => Driver.ScreenshotAsync("phi", image, default));

        Assert.Equal(VirtErrorCode.OperationInvalid, error.Code);
        Assert.Contains("no screens to take screenshot from", error.Message, StringComparison.Ordinal);
        Assert.Equal(0, image.Length);
    }

    [Fact]
    public async Task Screenshot_of_a_domain_with_video_is_a_ppm_image()
    {
        var xml = Definitions.DomainXml.Format(Definitions.DomainXml.Parse(BootableDomainXml("chi")) with { Videos = [new Definitions.VideoDevice(Definitions.VideoModel.Vga)] });
        await Driver.DefineDomainAsync(xml, default);
        await Driver.StartDomainAsync("chi", default);
        using var image = new MemoryStream();

        var type = await Driver.ScreenshotAsync("chi", image, default);

        Assert.Equal("image/x-portable-pixmap", type);
        Assert.StartsWith("P6\n", System.Text.Encoding.ASCII.GetString(image.ToArray(), 0, 3), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Start_queued_behind_an_undefine_is_refused_as_no_domain_and_runs_nothing()
    {
        await Driver.DefineDomainAsync(BootableDomainXml("upsilon"), default);
        await Driver.StartDomainAsync("upsilon", default);
        var file = Path.Combine(Scratch, "upsilon.save");

        // The save holds the domain's job; the undefine and then the start queue behind it, both
        // having found the domain before the undefine takes it away.
        var save = Call(() => Driver.SaveDomainAsync("upsilon", file, default));
        var undefine = Call(() => Driver.UndefineDomainAsync("upsilon", UndefineOptions.None, default));
        var start = Call(() => Driver.StartDomainAsync("upsilon", default));
        await save;
        await undefine;
        var error = await Assert.ThrowsAsync<VirtException>(() => start);

        Assert.Equal(VirtErrorCode.NoDomain, error.Code);
        Assert.DoesNotContain(await Driver.ListDomainsAsync(ListFilter.All, default), d => d.Name == "upsilon");
        await AssertNoGuestOutsideTheListAsync();
    }

    [Fact]
    public async Task Undefine_and_start_raced_leave_every_started_domain_listed_and_no_guest_hidden()
    {
        var names = Enumerable.Range(0, RacePairs).Select(i => $"race{i}").ToList();
        foreach (var name in names)
        {
            await Driver.DefineDomainAsync(BootableDomainXml(name), default);
        }

        var started = await Task.WhenAll(names.Select(async name =>
        {
            var undefine = Task.Run(() => Driver.UndefineDomainAsync(name, UndefineOptions.None, default));
            var start = Task.Run(async () =>
            {
                try
                {
                    await Driver.StartDomainAsync(name, default);
                    return true;
                }
                catch (VirtException ex) when (ex.Code == VirtErrorCode.NoDomain)
                {
                    return false;
                }
            });
            await undefine;
            return (Name: name, Started: await start);
        }));

        var listed = await Driver.ListDomainsAsync(ListFilter.All, default);
        Assert.All(started, pair =>
        {
            var domain = listed.FirstOrDefault(d => d.Name == pair.Name);
            if (pair.Started)
            {
                Assert.True(domain is { Persistent: false } && domain.Status.IsActive, $"'{pair.Name}' was started and undefined, so it must be listed running and transient");
            }
            else
            {
                Assert.Null(domain);
            }
        });
        await AssertNoGuestOutsideTheListAsync();
    }

    /// <summary>How many undefine/start pairs <see cref="Undefine_and_start_raced_leave_every_started_domain_listed_and_no_guest_hidden"/> races.</summary>
    protected virtual int RacePairs => 64;

    /// <summary>Drivers of real guests check here that every guest process belongs to a listed domain.</summary>
    protected virtual Task AssertNoGuestOutsideTheListAsync() => Task.CompletedTask;

    /// <summary>Turns a refusal thrown before the first await into a faulted task, as a queued call would see it.</summary>
    private static async Task Call(Func<Task> operation) => await operation();

    /// <summary>Drivers of real guests wait here until the guest can answer ACPI.</summary>
    protected virtual Task WaitUntilGuestIsUpAsync(string domain) => Task.CompletedTask;

    protected async Task<DomainStatus> WaitForStateAsync(string domain, DomainState state, TimeSpan limit)
    {
        using var timeout = new CancellationTokenSource(limit);
        while (true)
        {
            var status = await Driver.GetDomainStateAsync(domain, default);
            if (status.State == state)
            {
                return status;
            }

            try
            {
                await Task.Delay(50, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"domain '{domain}' is {status} after {limit.TotalSeconds:0} s, not {state}");
            }
        }
    }
}
