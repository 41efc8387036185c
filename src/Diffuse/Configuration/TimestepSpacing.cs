namespace Diffuse.Configuration;

/// <summary>How inference timesteps are picked from the training ones (diffusers' <c>timestep_spacing</c>; Table 2 of Lin et al. 2023).</summary>
public enum TimestepSpacing
{
    /// <summary><c>leading</c>: 0, k, 2k, ... (+ steps_offset), reversed.</summary>
    Leading,
    /// <summary><c>trailing</c>: T, T-k, ... down to k, minus one.</summary>
    Trailing,
    /// <summary><c>linspace</c>: evenly spaced from 0 to T-1, rounded.</summary>
    Linspace,
}
