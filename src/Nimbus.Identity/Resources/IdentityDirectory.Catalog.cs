using Nimbus.Platform.Data;

namespace Nimbus.Identity.Resources;

internal sealed partial class IdentityDirectory
{
    private const string RegionColumns = "id AS Id, description AS Description, parent_region_id AS ParentRegionId, extra AS Extra";
    private const string ServiceColumns = "id AS Id, type AS Type, name AS Name, description AS Description, enabled AS Enabled, extra AS Extra";
    private const string EndpointColumns = "id AS Id, service_id AS ServiceId, interface AS Interface, region_id AS RegionId, url AS Url, enabled AS Enabled, extra AS Extra";

    public static readonly IReadOnlySet<string> Interfaces = new HashSet<string>(["public", "internal", "admin"], StringComparer.Ordinal);

    // ---- Regions -------------------------------------------------------------------------

    public async Task<Region> CreateRegionAsync(string? id, string? description, string? parentRegionId, CancellationToken cancellationToken)
    {
        var region = new Region(id ?? NewId(), description ?? "", parentRegionId, []);
        ValidateName("id", region.Id);
        try
        {
            await _database.WriteAsync(
                async session =>
                {
                    if (parentRegionId is not null)
                    {
                        _ = await FindRegionAsync(session, parentRegionId) ?? throw IdentityErrors.NotFound("region", parentRegionId);
                    }

                    await session.ExecuteAsync(
                        "INSERT INTO regions (id, description, parent_region_id, extra) VALUES (@Id, @Description, @ParentRegionId, '{}')",
                        new { region.Id, region.Description, region.ParentRegionId });
                },
                cancellationToken);
        }
        catch (DuplicateKeyException)
        {
            throw new Platform.Errors.ConflictException("identity.duplicate", $"Conflict occurred attempting to store region - Duplicate ID, {region.Id}.");
        }

        return region;
    }

    public async Task<Region> GetRegionAsync(string id, CancellationToken cancellationToken) =>
        await _database.ReadAsync(session => FindRegionAsync(session, id), cancellationToken) ?? throw IdentityErrors.NotFound("region", id);

    public async Task<IReadOnlyList<Region>> ListRegionsAsync(string? parentRegionId, CancellationToken cancellationToken) =>
        (await _database.ReadAsync(
            session => session.QueryAsync<RegionRow>($"SELECT {RegionColumns} FROM regions WHERE (@parentRegionId IS NULL OR parent_region_id = @parentRegionId) ORDER BY id", new { parentRegionId }),
            cancellationToken)).Select(r => r.ToModel()).ToList();

    public async Task<Region> UpdateRegionAsync(string id, string? description, string? parentRegionId, CancellationToken cancellationToken) =>
        await _database.WriteAsync(
            async session =>
            {
                var current = await FindRegionAsync(session, id) ?? throw IdentityErrors.NotFound("region", id);
                if (parentRegionId is not null)
                {
                    _ = await FindRegionAsync(session, parentRegionId) ?? throw IdentityErrors.NotFound("region", parentRegionId);
                    if (parentRegionId == id)
                    {
                        throw IdentityErrors.Invalid("parent_region_id", "a region cannot be its own parent.");
                    }
                }

                var updated = current with { Description = description ?? current.Description, ParentRegionId = parentRegionId ?? current.ParentRegionId };
                await session.ExecuteAsync("UPDATE regions SET description = @Description, parent_region_id = @ParentRegionId WHERE id = @Id", new { updated.Id, updated.Description, updated.ParentRegionId });
                return updated;
            },
            cancellationToken);

    public async Task DeleteRegionAsync(string id, CancellationToken cancellationToken) =>
        await _database.WriteAsync(
            async session =>
            {
                _ = await FindRegionAsync(session, id) ?? throw IdentityErrors.NotFound("region", id);
                if (await session.ScalarAsync<long>("SELECT COUNT(*) FROM regions WHERE parent_region_id = @id", new { id }) > 0)
                {
                    throw IdentityErrors.Forbidden("region_has_children", $"Unable to delete region {id} because it or its child regions have associated endpoints.");
                }

                await session.ExecuteAsync("UPDATE endpoints SET region_id = NULL WHERE region_id = @id", new { id });
                await session.ExecuteAsync("DELETE FROM regions WHERE id = @id", new { id });
            },
            cancellationToken);

    private static async Task<Region?> FindRegionAsync(DataSession session, string id) =>
        (await session.QueryAsync<RegionRow>($"SELECT {RegionColumns} FROM regions WHERE id = @id", new { id })).Select(r => r.ToModel()).FirstOrDefault();

    // ---- Services ------------------------------------------------------------------------

    public async Task<CatalogService> CreateServiceAsync(string type, string? name, string? description, bool enabled, CancellationToken cancellationToken)
    {
        ValidateName("type", type);
        var service = new CatalogService(NewId(), type, name ?? "", description ?? "", enabled, []);
        await _database.WriteAsync(
            session => session.ExecuteAsync(
                "INSERT INTO services (id, type, name, description, enabled, extra) VALUES (@Id, @Type, @Name, @Description, @Enabled, '{}')",
                new { service.Id, service.Type, service.Name, service.Description, service.Enabled }),
            cancellationToken);
        IdentityLog.Created(_logger, "service", service.Id);
        return service;
    }

    public async Task<CatalogService> GetServiceAsync(string id, CancellationToken cancellationToken) =>
        await _database.ReadAsync(session => FindServiceAsync(session, id), cancellationToken) ?? throw IdentityErrors.NotFound("service", id);

    public async Task<IReadOnlyList<CatalogService>> ListServicesAsync(string? type, string? name, CancellationToken cancellationToken) =>
        (await _database.ReadAsync(
            session => session.QueryAsync<ServiceRow>($"SELECT {ServiceColumns} FROM services WHERE (@type IS NULL OR type = @type) AND (@name IS NULL OR name = @name) ORDER BY type, name", new { type, name }),
            cancellationToken)).Select(r => r.ToModel()).ToList();

    public async Task<CatalogService> UpdateServiceAsync(string id, string? type, string? name, string? description, bool? enabled, CancellationToken cancellationToken)
    {
        if (type is not null)
        {
            ValidateName("type", type);
        }

        return await _database.WriteAsync(
            async session =>
            {
                var current = await FindServiceAsync(session, id) ?? throw IdentityErrors.NotFound("service", id);
                var updated = current with { Type = type ?? current.Type, Name = name ?? current.Name, Description = description ?? current.Description, Enabled = enabled ?? current.Enabled };
                await session.ExecuteAsync(
                    "UPDATE services SET type = @Type, name = @Name, description = @Description, enabled = @Enabled WHERE id = @Id",
                    new { updated.Id, updated.Type, updated.Name, updated.Description, updated.Enabled });
                return updated;
            },
            cancellationToken);
    }

    public async Task DeleteServiceAsync(string id, CancellationToken cancellationToken) =>
        await _database.WriteAsync(
            async session =>
            {
                _ = await FindServiceAsync(session, id) ?? throw IdentityErrors.NotFound("service", id);
                await session.ExecuteAsync("DELETE FROM endpoints WHERE service_id = @id", new { id });
                await session.ExecuteAsync("DELETE FROM services WHERE id = @id", new { id });
            },
            cancellationToken);

    private static async Task<CatalogService?> FindServiceAsync(DataSession session, string id) =>
        (await session.QueryAsync<ServiceRow>($"SELECT {ServiceColumns} FROM services WHERE id = @id", new { id })).Select(r => r.ToModel()).FirstOrDefault();

    // ---- Endpoints -----------------------------------------------------------------------

    /// <summary>Creates an endpoint; <paramref name="createRegion"/> makes a missing region, as Keystone does for the legacy <c>region</c> attribute.</summary>
    public async Task<CatalogEndpoint> CreateEndpointAsync(string serviceId, string @interface, string url, string? regionId, bool enabled, CancellationToken cancellationToken, bool createRegion = false)
    {
        ValidateEndpoint(@interface, url);
        var endpoint = new CatalogEndpoint(NewId(), serviceId, @interface, regionId, url, enabled, []);
        await _database.WriteAsync(
            async session =>
            {
                _ = await FindServiceAsync(session, serviceId) ?? throw IdentityErrors.NotFound("service", serviceId);
                if (regionId is not null && await FindRegionAsync(session, regionId) is null)
                {
                    if (!createRegion)
                    {
                        throw IdentityErrors.NotFound("region", regionId);
                    }

                    await session.ExecuteAsync("INSERT INTO regions (id, description, parent_region_id, extra) VALUES (@regionId, '', NULL, '{}')", new { regionId });
                }

                await InsertEndpointAsync(session, endpoint, bootstrapKey: null);
            },
            cancellationToken);
        IdentityLog.Created(_logger, "endpoint", endpoint.Id);
        return endpoint;
    }

    public async Task<CatalogEndpoint> GetEndpointAsync(string id, CancellationToken cancellationToken) =>
        await _database.ReadAsync(session => FindEndpointAsync(session, id), cancellationToken) ?? throw IdentityErrors.NotFound("endpoint", id);

    public async Task<IReadOnlyList<CatalogEndpoint>> ListEndpointsAsync(string? serviceId, string? @interface, string? regionId, CancellationToken cancellationToken) =>
        (await _database.ReadAsync(
            session => session.QueryAsync<EndpointRow>(
                $"SELECT {EndpointColumns} FROM endpoints WHERE (@serviceId IS NULL OR service_id = @serviceId) AND (@iface IS NULL OR interface = @iface) AND (@regionId IS NULL OR region_id = @regionId) ORDER BY service_id, interface",
                new { serviceId, iface = @interface, regionId }),
            cancellationToken)).Select(r => r.ToModel()).ToList();

    public async Task<CatalogEndpoint> UpdateEndpointAsync(string id, string? serviceId, string? @interface, string? url, string? regionId, bool? enabled, CancellationToken cancellationToken, bool createRegion = false) =>
        await _database.WriteAsync(
            async session =>
            {
                var current = await FindEndpointAsync(session, id) ?? throw IdentityErrors.NotFound("endpoint", id);
                var updated = current with
                {
                    ServiceId = serviceId ?? current.ServiceId,
                    Interface = @interface ?? current.Interface,
                    Url = url ?? current.Url,
                    RegionId = regionId ?? current.RegionId,
                    Enabled = enabled ?? current.Enabled,
                };
                ValidateEndpoint(updated.Interface, updated.Url);
                if (serviceId is not null)
                {
                    _ = await FindServiceAsync(session, serviceId) ?? throw IdentityErrors.NotFound("service", serviceId);
                }

                if (regionId is not null && await FindRegionAsync(session, regionId) is null)
                {
                    if (!createRegion)
                    {
                        throw IdentityErrors.NotFound("region", regionId);
                    }

                    await session.ExecuteAsync("INSERT INTO regions (id, description, parent_region_id, extra) VALUES (@regionId, '', NULL, '{}')", new { regionId });
                }

                await session.ExecuteAsync(
                    "UPDATE endpoints SET service_id = @ServiceId, interface = @Interface, url = @Url, region_id = @RegionId, enabled = @Enabled WHERE id = @Id",
                    new { updated.Id, updated.ServiceId, updated.Interface, updated.Url, updated.RegionId, updated.Enabled });
                return updated;
            },
            cancellationToken);

    public async Task DeleteEndpointAsync(string id, CancellationToken cancellationToken) =>
        await _database.WriteAsync(
            async session =>
            {
                var removed = await session.ExecuteAsync("DELETE FROM endpoints WHERE id = @id", new { id });
                if (removed == 0)
                {
                    throw IdentityErrors.NotFound("endpoint", id);
                }
            },
            cancellationToken);

    /// <summary>Enabled services with their enabled endpoints, as the token's catalog lists them.</summary>
    public async Task<IReadOnlyList<CatalogEntry>> CatalogAsync(CancellationToken cancellationToken) =>
        await _database.ReadAsync(
            async session =>
            {
                var services = await session.QueryAsync<ServiceRow>($"SELECT {ServiceColumns} FROM services ORDER BY type, name");
                var endpoints = (await session.QueryAsync<EndpointRow>($"SELECT {EndpointColumns} FROM endpoints ORDER BY interface")).Select(r => r.ToModel()).Where(e => e.Enabled).ToLookup(e => e.ServiceId, StringComparer.Ordinal);
                return (IReadOnlyList<CatalogEntry>)services.Select(r => r.ToModel()).Where(s => s.Enabled).Select(s => new CatalogEntry(s, endpoints[s.Id].ToList())).ToList();
            },
            cancellationToken);

    private static void ValidateEndpoint(string @interface, string url)
    {
        if (!Interfaces.Contains(@interface))
        {
            throw IdentityErrors.Invalid("interface", $"'{@interface}' is not one of 'public', 'internal', 'admin'.");
        }

        if (string.IsNullOrWhiteSpace(url) || !(url.StartsWith("http://", StringComparison.OrdinalIgnoreCase) || url.StartsWith("https://", StringComparison.OrdinalIgnoreCase)))
        {
            throw IdentityErrors.Invalid("url", $"'{url}' is not an http or https URL.");
        }
    }

    /// <summary>
    /// Creates the endpoint bootstrap knows by <paramref name="bootstrapKey"/>, or moves it to
    /// <paramref name="url"/> when the public address changed; returns whether it changed anything.
    /// Endpoints an operator added by hand are never touched.
    /// </summary>
    internal async Task<bool> EnsureBootstrapEndpointAsync(string bootstrapKey, string serviceId, string @interface, string regionId, string url, CancellationToken cancellationToken) =>
        await _database.WriteAsync(
            async session =>
            {
                var existing = FirstOrNull(await session.QueryAsync<EndpointRow>($"SELECT {EndpointColumns} FROM endpoints WHERE bootstrap_key = @bootstrapKey", new { bootstrapKey }));
                if (existing is null)
                {
                    await InsertEndpointAsync(session, new CatalogEndpoint(NewId(), serviceId, @interface, regionId, url, true, []), bootstrapKey);
                    return true;
                }

                if (existing.Url == url)
                {
                    return false;
                }

                await session.ExecuteAsync("UPDATE endpoints SET url = @url WHERE id = @Id", new { url, existing.Id });
                IdentityLog.BootstrapMovedEndpoint(_logger, existing.Id, url);
                return true;
            },
            cancellationToken);

    private static Task<int> InsertEndpointAsync(DataSession session, CatalogEndpoint endpoint, string? bootstrapKey) =>
        session.ExecuteAsync(
            "INSERT INTO endpoints (id, service_id, interface, region_id, url, enabled, extra, bootstrap_key) VALUES (@Id, @ServiceId, @Interface, @RegionId, @Url, @Enabled, @Extra, @BootstrapKey)",
            new { endpoint.Id, endpoint.ServiceId, endpoint.Interface, endpoint.RegionId, endpoint.Url, endpoint.Enabled, Extra = Json.Write(endpoint.Extra), BootstrapKey = bootstrapKey });

    private static async Task<CatalogEndpoint?> FindEndpointAsync(DataSession session, string id) =>
        (await session.QueryAsync<EndpointRow>($"SELECT {EndpointColumns} FROM endpoints WHERE id = @id", new { id })).Select(r => r.ToModel()).FirstOrDefault();
}
