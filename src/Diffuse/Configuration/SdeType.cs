namespace Diffuse.Configuration;

/// <summary>The forward SDE of a continuous-time score model (<see cref="SdeSpec"/>), written as snake_case in config.json.</summary>
public enum SdeType
{
    /// <summary><c>vp</c>: the variance-preserving SDE, DDPM's continuous limit (<see cref="Process.VpSde"/>).</summary>
    Vp,
    /// <summary><c>subvp</c>: the sub-VP SDE (<see cref="Process.SubVpSde"/>).</summary>
    [System.Text.Json.Serialization.JsonStringEnumMemberName("subvp")]
    SubVp,
    /// <summary><c>ve</c>: the variance-exploding SDE, SMLD's continuous limit (<see cref="Process.VeSde"/>).</summary>
    Ve,
}
