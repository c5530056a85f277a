using System.Text.Json;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.Configuration.CommandLine;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Json;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.FileProviders;
using Nimbus.Platform.Errors;

namespace Nimbus.Platform.Configuration;

/// <summary>
/// Builds Nimbus configuration from, lowest precedence first: a JSON file, <c>NIMBUS__*</c>
/// environment variables, and settings given on the command line.
/// </summary>
public static class NimbusConfiguration
{
    public const string EnvironmentPrefix = "NIMBUS__";

    /// <summary>Sections owned by libraries rather than by a Nimbus options class; their keys are not checked.</summary>
    public static readonly IReadOnlyList<string> PassThroughSections = ["Logging"];

    /// <param name="jsonFile">The JSON file to read, or null for none.</param>
    /// <param name="jsonFileRequired">Whether a missing <paramref name="jsonFile"/> is an error (it was named explicitly).</param>
    /// <param name="environment">Environment variables to read, normally <see cref="Environment.GetEnvironmentVariables()"/>.</param>
    /// <param name="commandLine">Settings from the command line, keyed <c>Section:Key</c>.</param>
    public static IConfigurationRoot Build(
        string? jsonFile,
        bool jsonFileRequired,
        IReadOnlyDictionary<string, string?> environment,
        IReadOnlyDictionary<string, string?> commandLine)
    {
        var builder = new ConfigurationBuilder();
        if (jsonFile is not null)
        {
            var fullPath = Path.GetFullPath(jsonFile);
            if (!File.Exists(fullPath))
            {
                if (jsonFileRequired)
                {
                    throw new ConfigurationException(
                        "config.file_missing",
                        null,
                        $"configuration file '{fullPath}' does not exist; create it or leave out --config.");
                }
            }
            else
            {
                builder.AddJsonFile(fullPath, optional: false, reloadOnChange: false);
            }
        }

        var fromEnvironment = environment
            .Where(e => e.Key.StartsWith(EnvironmentPrefix, StringComparison.OrdinalIgnoreCase))
            .ToDictionary(
                e => e.Key[EnvironmentPrefix.Length..].Replace("__", ConfigurationPath.KeyDelimiter, StringComparison.Ordinal),
                e => e.Value,
                StringComparer.OrdinalIgnoreCase);
        builder.Add(new NamedMemorySource(SettingSource.Environment, fromEnvironment));
        builder.Add(new NamedMemorySource(SettingSource.CommandLine, commandLine));

        try
        {
            return builder.Build();
        }
        catch (Exception ex) when (ex is InvalidDataException or FormatException or JsonException)
        {
            var reason = (ex.InnerException ?? ex).Message;
            throw new ConfigurationException(
                "config.file_invalid",
                null,
                $"configuration file '{Path.GetFullPath(jsonFile!)}' is not valid JSON ({reason}); fix the file or move it aside.",
                ex);
        }
    }

    /// <summary>This process's environment variables, as <see cref="Build"/> and the daemon lookup take them.</summary>
    public static IReadOnlyDictionary<string, string?> ProcessEnvironment() =>
        Environment.GetEnvironmentVariables()
            .Cast<System.Collections.DictionaryEntry>()
            .ToDictionary(e => (string)e.Key, e => (string?)e.Value, StringComparer.Ordinal);

    /// <summary>Says where a key's value came from, in words a user can act on.</summary>
    public static string DescribeSource(IConfigurationRoot root, string key)
    {
        foreach (var provider in root.Providers.Reverse())
        {
            if (!provider.TryGet(key, out _))
            {
                continue;
            }

            return provider switch
            {
                JsonConfigurationProvider json => $"in {JsonFilePath(json)}",
                NamedMemoryProvider { Source: SettingSource.Environment } =>
                    $"from environment variable {EnvironmentPrefix}{key.Replace(ConfigurationPath.KeyDelimiter, "__", StringComparison.Ordinal)}",
                NamedMemoryProvider { Source: SettingSource.CommandLine } => "from the command line",
                CommandLineConfigurationProvider => "from the command line",
                EnvironmentVariablesConfigurationProvider => "from the environment",
                _ => "from the configuration",
            };
        }

        return "from the configuration";
    }

    private static string JsonFilePath(JsonConfigurationProvider provider) =>
        provider.Source.FileProvider is PhysicalFileProvider physical
            ? Path.Combine(physical.Root, provider.Source.Path ?? string.Empty)
            : provider.Source.Path ?? "the configuration file";

    private enum SettingSource
    {
        Environment,
        CommandLine,
    }

    private sealed class NamedMemorySource(SettingSource source, IReadOnlyDictionary<string, string?> values) : IConfigurationSource
    {
        public IConfigurationProvider Build(IConfigurationBuilder builder) => new NamedMemoryProvider(source, values);
    }

    private sealed class NamedMemoryProvider : MemoryConfigurationProvider
    {
        public NamedMemoryProvider(SettingSource source, IReadOnlyDictionary<string, string?> values)
            : base(new MemoryConfigurationSource { InitialData = values })
        {
            Source = source;
        }

        public SettingSource Source { get; }
    }
}
