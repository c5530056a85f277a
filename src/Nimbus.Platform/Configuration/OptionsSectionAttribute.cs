namespace Nimbus.Platform.Configuration;

/// <summary>Names the configuration section an options class binds from (<c>"Daemon"</c> → <c>Daemon:Port</c>).</summary>
[AttributeUsage(AttributeTargets.Class, Inherited = false)]
public sealed class OptionsSectionAttribute(string name) : Attribute
{
    public string Name { get; } = name;
}
