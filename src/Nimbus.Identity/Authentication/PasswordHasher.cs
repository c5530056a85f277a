using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace Nimbus.Identity.Authentication;

/// <summary>
/// PBKDF2-SHA512 hashes in a self-describing form, <c>pbkdf2-sha512$iterations$salt$hash</c>
/// (base64), so the iteration count can rise without invalidating stored hashes. Used for user
/// passwords and application credential secrets.
/// </summary>
internal sealed class PasswordHasher
{
    private const string Scheme = "pbkdf2-sha512";
    private const int SaltBytes = 16;
    private const int HashBytes = 64;

    private readonly Lazy<string> _standIn;
    private long _checks;

    public PasswordHasher(int iterations)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        Iterations = iterations;
        _standIn = new Lazy<string>(() => Hash(Convert.ToBase64String(RandomNumberGenerator.GetBytes(SaltBytes))));
    }

    public int Iterations { get; }

    /// <summary>How many passwords <see cref="Check"/> has hashed, a stand-in's included.</summary>
    internal long Checks => Interlocked.Read(ref _checks);

    /// <summary>
    /// Whether <paramref name="password"/> matches <paramref name="stored"/>. With nothing stored (no
    /// such user, or one without a password) it still hashes the password, against a stand-in hash
    /// of the same cost, so a missing user takes as long to refuse as a wrong password.
    /// </summary>
    public bool Check(string password, string? stored)
    {
        Interlocked.Increment(ref _checks);
        if (stored is null)
        {
            Verify(password, _standIn.Value);
            return false;
        }

        return Verify(password, stored);
    }

    public string Hash(string password)
    {
        ArgumentNullException.ThrowIfNull(password);
        var salt = RandomNumberGenerator.GetBytes(SaltBytes);
        var hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, Iterations, HashAlgorithmName.SHA512, HashBytes);
        return string.Create(CultureInfo.InvariantCulture, $"{Scheme}${Iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}");
    }

    /// <summary>Whether <paramref name="password"/> matches <paramref name="stored"/>; false for a malformed hash.</summary>
    public static bool Verify(string password, string? stored)
    {
        ArgumentNullException.ThrowIfNull(password);
        var parts = stored?.Split('$');
        if (parts is not [Scheme, var iterationsText, var saltText, var hashText]
            || !int.TryParse(iterationsText, NumberStyles.None, CultureInfo.InvariantCulture, out var iterations)
            || iterations < 1)
        {
            return false;
        }

        byte[] salt, expected;
        try
        {
            salt = Convert.FromBase64String(saltText);
            expected = Convert.FromBase64String(hashText);
        }
        catch (FormatException)
        {
            return false;
        }

        var actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA512, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }
}
