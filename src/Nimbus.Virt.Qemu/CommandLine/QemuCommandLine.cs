using System.Globalization;
using Nimbus.Virt.Definitions;

namespace Nimbus.Virt.Qemu.CommandLine;

/// <summary>
/// Builds the qemu-system-x86_64 argument vector for a domain: pure, so golden files pin it
/// (tests/Nimbus.Virt.Qemu.Tests/Golden/argv). The process starts paused (-S) and detached
/// (-daemonize); the driver resumes it over QMP once it is set up, as libvirt does.
/// </summary>
public static class QemuCommandLine
{
    public static IReadOnlyList<string> Build(DomainDefinition domain, QemuLaunchPlan plan)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(plan);
        var args = new List<string>
        {
            plan.Emulator,
            "-name", $"guest={Escape(domain.Name)},debug-threads=on",
            "-uuid", domain.Uuid.ToString("D"),
            "-machine", $"{domain.Os.Machine ?? "pc"},usb=off,dump-guest-core=off{(domain.Acpi ? string.Empty : ",acpi=off")}",
            "-accel", plan.Accelerator,
            "-cpu", Cpu(domain, plan),
            "-m", $"size={Invariant(domain.MemoryKiB)}k",
            "-overcommit", "mem-lock=off",
            "-smp", Smp(domain),
            "-no-user-config",
            "-nodefaults",
            "-chardev", $"socket,id=charmonitor,path={Escape(plan.MonitorSocket)},server=on,wait=off",
            "-mon", "chardev=charmonitor,id=monitor,mode=control",
            "-rtc", $"base={(domain.Clock == ClockOffset.Localtime ? "localtime" : "utc")}",
            // A guest power-off stops the VM instead of ending QEMU: the driver then quits it, or resets it for a reboot.
            "-no-shutdown",
        };

        if (domain.OnReboot == LifecycleAction.Destroy)
        {
            args.Add("-no-reboot");
        }

        AddBoot(args, domain.Os);
        AddDisks(args, domain);
        AddInterfaces(args, domain, plan);
        AddSerials(args, domain, plan);
        AddChannels(args, domain, plan);
        AddInputs(args, domain);
        AddGraphics(args, domain, plan);
        if (domain.MemBalloon is { Enabled: true })
        {
            args.AddRange(["-device", "virtio-balloon-pci,id=balloon0"]);
        }

        for (var i = 0; i < domain.Rngs.Count; i++)
        {
            args.AddRange(["-object", $"rng-random,id=objrng{i},filename={Escape(domain.Rngs[i].Backend)}", "-device", $"virtio-rng-pci,rng=objrng{i},id=rng{i}"]);
        }

        if (plan.Incoming)
        {
            // The saved state arrives later as an open descriptor (migrate-incoming fd:NAME): no path reaches QEMU or a shell.
            args.AddRange(["-incoming", "defer"]);
        }

        args.AddRange(["-S", "-daemonize", "-pidfile", plan.PidFile, "-msg", "timestamp=on"]);
        return args;
    }

    private static string Cpu(DomainDefinition domain, QemuLaunchPlan plan) => domain.Cpu switch
    {
        { Mode: CpuMode.Custom, Model: { } model } => model,
        // Under TCG there is no host CPU to pass through; "max" enables everything TCG can emulate.
        { Mode: CpuMode.HostPassthrough or CpuMode.HostModel } => plan.Accelerator == "kvm" ? "host" : "max",
        _ => plan.Accelerator == "kvm" ? "host" : "qemu64",
    };

    private static string Smp(DomainDefinition domain) =>
        $"{Invariant(domain.CurrentVcpus ?? domain.Vcpus)},maxcpus={Invariant(domain.Vcpus)},sockets={Invariant(domain.Vcpus)},cores=1,threads=1";

    private static void AddBoot(List<string> args, OsDefinition os)
    {
        if (os.Kernel is not null)
        {
            args.AddRange(["-kernel", os.Kernel]);
            if (os.Initrd is not null)
            {
                args.AddRange(["-initrd", os.Initrd]);
            }

            if (os.Cmdline is not null)
            {
                args.AddRange(["-append", os.Cmdline]);
            }
        }

        if (os.Boot.Count > 0)
        {
            var order = string.Concat(os.Boot.Select(b => b switch
            {
                BootDevice.Hd => 'c',
                BootDevice.Cdrom => 'd',
                BootDevice.Network => 'n',
                _ => 'a',
            }));
            args.AddRange(["-boot", $"order={order},strict=on"]);
        }
    }

    private static void AddDisks(List<string> args, DomainDefinition domain)
    {
        if (domain.Disks.Any(d => d.Bus == DiskBus.Sata))
        {
            args.AddRange(["-device", "ich9-ahci,id=sata0"]);
        }

        if (domain.Disks.Any(d => d.Bus == DiskBus.Scsi))
        {
            args.AddRange(["-device", "virtio-scsi-pci,id=scsi0"]);
        }

        var sataPort = 0;
        var idePort = 0;
        var scsiUnit = 0;
        foreach (var disk in domain.Disks)
        {
            var drive = $"drive-{disk.TargetDev}";
            var driveOptions = new List<string> { "if=none", $"id={drive}" };
            if (disk.Source is not null)
            {
                driveOptions.Insert(0, $"file={Escape(disk.Source)}");
                driveOptions.Add($"format={disk.Format.ToString().ToLowerInvariant()}");
            }

            if (disk.Device == DiskDeviceKind.Cdrom)
            {
                driveOptions.Add("media=cdrom");
            }

            if (disk.ReadOnly || disk.Device == DiskDeviceKind.Cdrom)
            {
                driveOptions.Add("readonly=on");
            }

            args.AddRange(["-drive", string.Join(',', driveOptions)]);

            var cd = disk.Device == DiskDeviceKind.Cdrom;
            var device = disk.Bus switch
            {
                DiskBus.Virtio => $"virtio-blk-pci,drive={drive},id={disk.TargetDev}",
                DiskBus.Sata => $"{(cd ? "ide-cd" : "ide-hd")},bus=sata0.{Invariant(sataPort++)},drive={drive},id={disk.TargetDev}",
                DiskBus.Ide => $"{(cd ? "ide-cd" : "ide-hd")},bus=ide.{Invariant(idePort / 2)},unit={Invariant(idePort++ % 2)},drive={drive},id={disk.TargetDev}",
                _ => $"{(cd ? "scsi-cd" : "scsi-hd")},bus=scsi0.0,scsi-id={Invariant(scsiUnit++)},drive={drive},id={disk.TargetDev}",
            };
            if (BootIndex(domain, disk) is { } bootIndex)
            {
                device += $",bootindex={Invariant(bootIndex)}";
            }

            if (disk.Serial is not null)
            {
                device += $",serial={Escape(disk.Serial)}";
            }

            args.AddRange(["-device", device]);
        }
    }

    /// <summary>The first disk of each boot device kind gets the boot index of its place in the boot order.</summary>
    private static int? BootIndex(DomainDefinition domain, DiskDevice disk)
    {
        if (domain.Os.Kernel is not null)
        {
            return null;
        }

        static BootDevice KindOf(DiskDevice d) => d.Device == DiskDeviceKind.Cdrom ? BootDevice.Cdrom : BootDevice.Hd;
        var order = domain.Os.Boot.Count == 0 ? [BootDevice.Hd] : domain.Os.Boot;
        var position = order.ToList().IndexOf(KindOf(disk));
        if (position < 0)
        {
            return null;
        }

        return ReferenceEquals(domain.Disks.First(d => KindOf(d) == KindOf(disk)), disk) ? position + 1 : null;
    }

    private static void AddInterfaces(List<string> args, DomainDefinition domain, QemuLaunchPlan plan)
    {
        for (var i = 0; i < domain.Interfaces.Count; i++)
        {
            var nic = domain.Interfaces[i];
            var netdev = nic.Type switch
            {
                InterfaceType.User => $"user,id=hostnet{i}",
                _ => plan.TapByMac.TryGetValue(nic.Mac, out var tap)
                    ? $"tap,id=hostnet{i},ifname={tap},script=no,downscript=no"
                    : throw new VirtException(VirtErrorCode.InternalError, $"no tap device was prepared for interface {nic.Mac}"),
            };
            var model = nic.Model switch
            {
                NicModel.Virtio => "virtio-net-pci",
                NicModel.E1000 => "e1000",
                _ => "rtl8139",
            };
            args.AddRange(["-netdev", netdev, "-device", $"{model},netdev=hostnet{i},id=net{i},mac={nic.Mac}"]);
        }
    }

    private static void AddSerials(List<string> args, DomainDefinition domain, QemuLaunchPlan plan)
    {
        // A console of target type serial is serial port N itself; it adds a port only where no serial is defined.
        var ports = domain.Serials.ToDictionary(s => s.Port);
        foreach (var console in domain.Consoles)
        {
            ports.TryAdd(console.Port, console);
        }

        foreach (var (port, serial) in ports.OrderBy(p => p.Key))
        {
            var id = $"charserial{Invariant(port)}";
            var backend = serial.Type switch
            {
                CharDeviceType.Pty => $"pty,id={id}",
                CharDeviceType.File => $"file,id={id},path={Escape(serial.Path!)}",
                _ => $"socket,id={id},path={Escape(serial.Path!)},server=on,wait=off",
            };
            if (port == 0 && plan.ConsoleLog is not null)
            {
                backend += $",logfile={Escape(plan.ConsoleLog)},logappend=on";
            }

            args.AddRange(["-chardev", backend, "-device", $"isa-serial,chardev={id},id=serial{Invariant(port)},index={Invariant(port)}"]);
        }
    }

    private static void AddChannels(List<string> args, DomainDefinition domain, QemuLaunchPlan plan)
    {
        if (domain.Channels.Count == 0)
        {
            return;
        }

        args.AddRange(["-device", "virtio-serial-pci,id=virtio-serial0"]);
        for (var i = 0; i < domain.Channels.Count; i++)
        {
            var channel = domain.Channels[i];
            var path = channel.Path ?? plan.ChannelSockets.GetValueOrDefault(channel.TargetName)
                ?? throw new VirtException(VirtErrorCode.InternalError, $"no socket was planned for channel {channel.TargetName}");
            args.AddRange([
                "-chardev", $"socket,id=charchannel{i},path={Escape(path)},server=on,wait=off",
                "-device", $"virtserialport,bus=virtio-serial0.0,nr={i + 1},chardev=charchannel{i},id=channel{i},name={Escape(channel.TargetName)}",
            ]);
        }
    }

    private static void AddInputs(List<string> args, DomainDefinition domain)
    {
        if (domain.Inputs.Any(i => i.Bus == InputBus.Usb))
        {
            args.AddRange(["-device", "piix3-usb-uhci,id=usb"]);
        }

        for (var i = 0; i < domain.Inputs.Count; i++)
        {
            var input = domain.Inputs[i];
            var device = (input.Type, input.Bus) switch
            {
                // PS/2 keyboard and mouse are built into the pc machine.
                (_, InputBus.Ps2) => null,
                (InputType.Tablet, InputBus.Usb) => "usb-tablet",
                (InputType.Mouse, InputBus.Usb) => "usb-mouse",
                (InputType.Keyboard, InputBus.Usb) => "usb-kbd",
                (InputType.Tablet, _) => "virtio-tablet-pci",
                (InputType.Mouse, _) => "virtio-mouse-pci",
                _ => "virtio-keyboard-pci",
            };
            if (device is not null)
            {
                args.AddRange(["-device", input.Bus == InputBus.Usb ? $"{device},id=input{i},bus=usb.0" : $"{device},id=input{i}"]);
            }
        }
    }

    private static void AddGraphics(List<string> args, DomainDefinition domain, QemuLaunchPlan plan)
    {
        if (domain.Graphics.Count == 0)
        {
            args.AddRange(["-display", "none"]);
        }
        else
        {
            var vnc = domain.Graphics[0];
            var display = vnc.AutoPort
                ? plan.VncDisplay ?? throw new VirtException(VirtErrorCode.InternalError, "no VNC port was picked for an autoport display")
                : vnc.Port - 5900;
            var listen = vnc.Listen.Contains(':', StringComparison.Ordinal) ? $"[{vnc.Listen}]" : vnc.Listen;
            args.AddRange(["-vnc", vnc.Password is null ? $"{listen}:{Invariant(display)}" : $"{listen}:{Invariant(display)},password=on"]);
        }

        for (var index = 0; index < domain.Videos.Count; index++)
        {
            var device = domain.Videos[index].Model switch
            {
                VideoModel.Virtio => index == 0 ? "virtio-vga" : "virtio-gpu-pci",
                VideoModel.Vga => "VGA",
                VideoModel.Cirrus => "cirrus-vga",
                VideoModel.Qxl => index == 0 ? "qxl-vga" : "qxl",
                _ => null,
            };
            if (device is not null)
            {
                args.AddRange(["-device", $"{device},id=video{index}"]);
            }
        }
    }

    /// <summary>QEMU option values separate fields with commas; a literal comma is written twice.</summary>
    private static string Escape(string value) => value.Replace(",", ",,", StringComparison.Ordinal);

    private static string Invariant(int value) => value.ToString(CultureInfo.InvariantCulture);

    private static string Invariant(ulong value) => value.ToString(CultureInfo.InvariantCulture);
}
