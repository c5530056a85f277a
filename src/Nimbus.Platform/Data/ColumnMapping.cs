using System.Reflection;
using Dapper;

namespace Nimbus.Platform.Data;

/// <summary>
/// How result columns map into a service's records, the same on both engines. Dapper alone picks a
/// record's constructor only when every column's type is exactly the parameter's type, but SQLite
/// reports every integer and boolean as a 64-bit integer and PostgreSQL reports COUNT(*) and
/// BIGINT as one too; so a record with an <c>int</c> or <c>bool</c> parameter would map on one
/// engine and not the other. This map also accepts numeric and boolean conversions (Dapper's own
/// code converts the values) and matches <c>snake_case</c> columns to <c>PascalCase</c> members.
/// Columns still come in the constructor's order, as Dapper requires.
/// </summary>
internal sealed class ColumnMapping(Type type) : SqlMapper.ITypeMap
{
    private readonly DefaultTypeMap _default = new(type);

    /// <summary>Makes Dapper use this map for every type. Dapper's configuration is process-wide, so this is too; it only widens what maps.</summary>
    public static void Install() => Installer.Run();

    public ConstructorInfo? FindConstructor(string[] names, Type[] types) =>
        _default.FindConstructor(names, types)
        ?? type.GetConstructors(BindingFlags.Instance | BindingFlags.Public | BindingFlags.NonPublic)
            .OrderBy(constructor => constructor.IsPublic ? 0 : 1)
            .FirstOrDefault(constructor => Accepts(constructor.GetParameters(), names, types));

    public ConstructorInfo? FindExplicitConstructor() => _default.FindExplicitConstructor();

    public SqlMapper.IMemberMap? GetConstructorParameter(ConstructorInfo constructor, string columnName)
    {
        var parameter = constructor.GetParameters().FirstOrDefault(p => SameName(p.Name, columnName));
        return parameter?.Name is { } name ? _default.GetConstructorParameter(constructor, name) : null;
    }

    public SqlMapper.IMemberMap? GetMember(string columnName) =>
        _default.GetMember(columnName)
        ?? (columnName.Contains('_', StringComparison.Ordinal) ? _default.GetMember(columnName.Replace("_", string.Empty, StringComparison.Ordinal)) : null);

    private static bool Accepts(ParameterInfo[] parameters, string[] names, Type[] types)
    {
        if (parameters.Length != names.Length)
        {
            return false;
        }

        for (var i = 0; i < parameters.Length; i++)
        {
            if (!SameName(parameters[i].Name, names[i]) || !Converts(types[i], parameters[i].ParameterType))
            {
                return false;
            }
        }

        return true;
    }

    private static bool Converts(Type column, Type parameter)
    {
        var target = Nullable.GetUnderlyingType(parameter) ?? parameter;
        if (target == column || SqlMapper.HasTypeHandler(target))
        {
            return true;
        }

        if (target.IsEnum)
        {
            target = Enum.GetUnderlyingType(target);
        }

        // A NULL in the first row leaves SQLite to report the declared type's affinity, which for
        // BOOLEAN is not an integer; the values that follow still convert.
        return IsScalar(target) && (IsScalar(column) || column == typeof(string));
    }

    private static bool IsScalar(Type type) => Type.GetTypeCode(type) is >= TypeCode.Boolean and <= TypeCode.Decimal and not TypeCode.Char;

    private static class Installer
    {
        // The runtime runs a static constructor exactly once, before Run's first call.
        static Installer() => SqlMapper.TypeMapProvider = static type => new ColumnMapping(type);

        public static void Run()
        {
        }
    }

    private static bool SameName(string? member, string column) =>
        member is not null && string.Equals(member.Replace("_", string.Empty, StringComparison.Ordinal), column.Replace("_", string.Empty, StringComparison.Ordinal), StringComparison.OrdinalIgnoreCase);
}
