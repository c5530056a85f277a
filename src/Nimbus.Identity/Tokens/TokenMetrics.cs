using Prometheus;

namespace Nimbus.Identity.Tokens;

/// <summary>Tokens issued and checked, as Prometheus counters of the host's registry.</summary>
public sealed class TokenMetrics
{
    private readonly Counter _issued;
    private readonly Counter.Child _valid;
    private readonly Counter.Child _malformed;
    private readonly Counter.Child _expired;
    private readonly Counter.Child _revoked;

    public TokenMetrics(IMetricFactory factory)
    {
        ArgumentNullException.ThrowIfNull(factory);
        _issued = factory.CreateCounter("nimbus_identity_tokens_issued_total", "Tokens issued, by the authentication methods they carry.", ["methods"]);
        var validated = factory.CreateCounter("nimbus_identity_tokens_validated_total", "Tokens checked, by result: valid, or refused as malformed (or sealed by no key of the ring), expired or revoked.", ["result"]);
        _valid = validated.WithLabels("valid");
        _malformed = validated.WithLabels("malformed");
        _expired = validated.WithLabels("expired");
        _revoked = validated.WithLabels("revoked");
    }

    internal void Issued(TokenMethods methods) => _issued.WithLabels(Label(methods)).Inc();

    internal void Valid() => _valid.Inc();

    internal void Malformed() => _malformed.Inc();

    internal void Expired() => _expired.Inc();

    internal void Revoked() => _revoked.Inc();

    /// <summary>Keystone's method names, joined with '+' when a token carries several (password+token).</summary>
    private static string Label(TokenMethods methods)
    {
        var names = new List<string>(3);
        if (methods.HasFlag(TokenMethods.Password))
        {
            names.Add("password");
        }

        if (methods.HasFlag(TokenMethods.Token))
        {
            names.Add("token");
        }

        if (methods.HasFlag(TokenMethods.ApplicationCredential))
        {
            names.Add("application_credential");
        }

        return names.Count == 0 ? "none" : string.Join('+', names);
    }
}
