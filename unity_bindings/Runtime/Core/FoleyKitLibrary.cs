using System;
using System.Runtime.CompilerServices;

[assembly: InternalsVisibleTo("FoleyKit.Runtime.Tests")]

namespace FoleyKit
{
    /// <summary>Library-wide facts: version, result strings, the thread's last error.</summary>
    public static class FoleyKitLibrary
    {
        /// <summary>The FK_VERSION_* this binding was written against.</summary>
        public const int BindingVersionMajor = 0;
        public const int BindingVersionMinor = 1;
        /// <summary>FK_CONFIG_VERSION: the config struct version create functions accept.</summary>
        public const int ConfigVersion = 1;

        /// <summary>fk_version(): "major.minor.patch" of the loaded native library.</summary>
        public static string Version
        {
            get { return Utf8.FromNative(Native.fk_version()); }
        }

        /// <summary>fk_result_string(): a static English description of a code.</summary>
        public static string ResultString(FkResult result)
        {
            return Utf8.FromNative(Native.fk_result_string(result)) ?? result.ToString();
        }

        /// <summary>fk_last_error(): the calling thread's most recent failure message.</summary>
        public static string LastError
        {
            get { return Utf8.FromNative(Native.fk_last_error()) ?? string.Empty; }
        }

        /// <summary>
        /// True when the native library's major/minor match this binding's (0.x: minor too).
        /// </summary>
        public static bool IsCompatible(string version)
        {
            if (string.IsNullOrEmpty(version)) return false;
            var parts = version.Split('.');
            int major, minor;
            if (parts.Length < 2 || !int.TryParse(parts[0], out major) || !int.TryParse(parts[1], out minor))
                return false;
            return major == BindingVersionMajor && (major > 0 || minor == BindingVersionMinor);
        }
    }
}
