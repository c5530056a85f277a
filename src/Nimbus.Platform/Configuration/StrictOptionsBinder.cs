using System.ComponentModel;
using System.ComponentModel.DataAnnotations;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Nimbus.Platform.Errors;

namespace Nimbus.Platform.Configuration;

/// <summary>
/// Binds options classes from configuration and refuses anything it cannot use: keys no options
/// class declares, values of the wrong type, values that fail validation. Each refusal is one
/// <see cref="ConfigurationException"/> naming the key, where it was set, and the fix.
/// </summary>
public static class StrictOptionsBinder
{
    /// <summary>Fails on the first key under <paramref name="root"/> that no registered options class declares.</summary>
    public static void RejectUnknownKeys(IConfigurationRoot root, IEnumerable<Type> optionsTypes)
    {
        ArgumentNullException.ThrowIfNull(root);
        var sections = optionsTypes.ToDictionary(SectionName, t => t, StringComparer.OrdinalIgnoreCase);

        foreach (var top in root.GetChildren())
        {
            if (NimbusConfiguration.PassThroughSections.Contains(top.Key, StringComparer.OrdinalIgnoreCase))
            {
                continue;
            }

            if (!sections.TryGetValue(top.Key, out var type))
            {
                var leaf = FirstLeaf(top);
                var known = string.Join(", ", sections.Keys.Concat(NimbusConfiguration.PassThroughSections).Order(StringComparer.Ordinal));
                throw new ConfigurationException(
                    "config.unknown_section",
                    leaf.Path,
                    $"unknown configuration key '{leaf.Path}' ({NimbusConfiguration.DescribeSource(root, leaf.Path)}): there is no section '{top.Key}'{Suggest(top.Key, sections.Keys, string.Empty)}; the sections are: {known}.");
            }

            RejectUnknownKeysIn(root, top, type);
        }
    }

    /// <summary>Binds <typeparamref name="T"/> from its section, converting and validating every value.</summary>
    public static T Bind<T>(IConfigurationRoot root)
        where T : class, new()
    {
        ArgumentNullException.ThrowIfNull(root);
        var options = new T();
        BindObject(root, root.GetSection(SectionName(typeof(T))), options);
        Validate(root, SectionName(typeof(T)), options);
        return options;
    }

    public static string SectionName(Type optionsType) =>
        optionsType.GetCustomAttribute<OptionsSectionAttribute>()?.Name
        ?? throw new ArgumentException($"{optionsType.Name} has no [OptionsSection] attribute.", nameof(optionsType));

    private static void RejectUnknownKeysIn(IConfigurationRoot root, IConfigurationSection section, Type type)
    {
        var properties = BindableProperties(type).ToDictionary(p => p.Name, StringComparer.OrdinalIgnoreCase);
        foreach (var child in section.GetChildren())
        {
            if (!properties.TryGetValue(child.Key, out var property))
            {
                var leaf = FirstLeaf(child);
                throw new ConfigurationException(
                    "config.unknown_key",
                    leaf.Path,
                    $"unknown configuration key '{leaf.Path}' ({NimbusConfiguration.DescribeSource(root, leaf.Path)}){Suggest(child.Key, properties.Keys, section.Path + ":")}; the keys of '{section.Path}' are: {string.Join(", ", properties.Keys)}.");
            }

            if (IsNestedOptions(property.PropertyType))
            {
                RejectUnknownKeysIn(root, child, property.PropertyType);
            }
        }
    }

    private static void BindObject(IConfigurationRoot root, IConfigurationSection section, object target)
    {
        foreach (var property in BindableProperties(target.GetType()))
        {
            var child = section.GetSection(property.Name);
            if (IsNestedOptions(property.PropertyType))
            {
                var nested = property.GetValue(target) ?? Activator.CreateInstance(property.PropertyType)!;
                BindObject(root, child, nested);
                property.SetValue(target, nested);
                continue;
            }

            if (child.Value is null)
            {
                if (child.GetChildren().Any())
                {
                    throw new ConfigurationException(
                        "config.wrong_type",
                        child.Path,
                        $"configuration key '{child.Path}' ({NimbusConfiguration.DescribeSource(root, FirstLeaf(child).Path)}) must be a single value ({Describe(property.PropertyType)}), not an object or list.");
                }

                continue;
            }

            property.SetValue(target, Convert(root, child, property));
        }
    }

    private static object? Convert(IConfigurationRoot root, IConfigurationSection setting, PropertyInfo property)
    {
        var type = property.PropertyType;
        var raw = setting.Value!;
        var target = Nullable.GetUnderlyingType(type) ?? type;
        if (target == typeof(string))
        {
            return raw;
        }

        if (raw.Length == 0 && Nullable.GetUnderlyingType(type) is not null)
        {
            return null;
        }

        try
        {
            if (target.IsEnum)
            {
                var match = Enum.GetNames(target).FirstOrDefault(n => string.Equals(n, raw.Trim(), StringComparison.OrdinalIgnoreCase));
                if (match is not null)
                {
                    return Enum.Parse(target, match);
                }
            }
            else
            {
                return TypeDescriptor.GetConverter(target).ConvertFromInvariantString(raw.Trim());
            }
        }
        catch (Exception ex) when (ex is FormatException or ArgumentException or NotSupportedException or OverflowException)
        {
            // Falls through to the refusal below; the converter's own message names .NET types, not the fix.
        }

        throw new ConfigurationException(
            "config.wrong_type",
            setting.Path,
            $"configuration key '{setting.Path}' ({NimbusConfiguration.DescribeSource(root, setting.Path)}) is '{raw}', which is not {Describe(type)}; set it to {Example(property)}.");
    }

    private static void Validate(IConfigurationRoot root, string sectionName, object options)
    {
        var results = new List<ValidationResult>();
        if (Validator.TryValidateObject(options, new ValidationContext(options), results, validateAllProperties: true))
        {
            return;
        }

        var first = results[0];
        var member = first.MemberNames.FirstOrDefault();
        var key = member is null ? sectionName : ConfigurationPath.Combine(sectionName, member);
        var where = member is null ? string.Empty : $" ({NimbusConfiguration.DescribeSource(root, key)})";
        throw new ConfigurationException(
            "config.invalid_value",
            key,
            $"configuration key '{key}'{where}: {first.ErrorMessage}");
    }

    private static IEnumerable<PropertyInfo> BindableProperties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite && p.GetIndexParameters().Length == 0);

    private static bool IsNestedOptions(Type type) =>
        type.IsClass && type != typeof(string) && type.GetConstructor(Type.EmptyTypes) is not null;

    private static IConfigurationSection FirstLeaf(IConfigurationSection section)
    {
        var current = section;
        while (current.Value is null && current.GetChildren().FirstOrDefault() is { } child)
        {
            current = child;
        }

        return current;
    }

    private static string Describe(Type type)
    {
        var target = Nullable.GetUnderlyingType(type) ?? type;
        return target switch
        {
            _ when target == typeof(int) || target == typeof(long) => "a whole number",
            _ when target == typeof(double) || target == typeof(decimal) => "a number",
            _ when target == typeof(bool) => "true or false",
            _ when target == typeof(TimeSpan) => "a duration (hh:mm:ss)",
            _ when target.IsEnum => "one of: " + string.Join(", ", Enum.GetNames(target).Select(n => n.ToLowerInvariant())),
            _ => "a " + target.Name,
        };
    }

    private static string Example(PropertyInfo property)
    {
        var target = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        var range = property.GetCustomAttribute<RangeAttribute>();
        return target switch
        {
            _ when range is not null => $"{Describe(target)} from {range.Minimum} to {range.Maximum}",
            _ when target == typeof(int) || target == typeof(long) => "a whole number such as 30",
            _ when target == typeof(double) || target == typeof(decimal) => "a number such as 1.5",
            _ when target == typeof(bool) => "true or false",
            _ when target == typeof(TimeSpan) => "a duration such as 00:00:30",
            _ when target.IsEnum => Describe(target),
            _ => Describe(target),
        };
    }

    private static string Suggest(string given, IEnumerable<string> candidates, string prefix)
    {
        var best = candidates
            .Select(c => (Name: c, Distance: EditDistance(given.ToUpperInvariant(), c.ToUpperInvariant())))
            .Where(c => c.Distance <= Math.Max(2, given.Length / 3))
            .OrderBy(c => c.Distance)
            .FirstOrDefault();
        return best.Name is null ? string.Empty : $"; did you mean '{prefix}{best.Name}'";
    }

    private static int EditDistance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (var j = 0; j <= b.Length; j++)
        {
            previous[j] = j;
        }

        for (var i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (var j = 1; j <= b.Length; j++)
            {
                var cost = a[i - 1] == b[j - 1] ? 0 : 1;
                current[j] = Math.Min(Math.Min(current[j - 1] + 1, previous[j] + 1), previous[j - 1] + cost);
            }

            (previous, current) = (current, previous);
        }

        return previous[b.Length];
    }
}
