using System;

namespace FoleyKit
{
    /// <summary>
    /// A failed C ABI call: the fk_result code, its fk_result_string, and the detailed
    /// fk_last_error() message the native library gave for this call.
    /// </summary>
    public class FoleyKitException : Exception
    {
        public FkResult Result { get; private set; }
        /// <summary>fk_last_error() right after the failing call ("" if the library gave none).</summary>
        public string NativeMessage { get; private set; }
        /// <summary>The C function that failed, e.g. "fk_synth_create".</summary>
        public string Function { get; private set; }

        public FoleyKitException(FkResult result, string function, string nativeMessage)
            : base(Format(result, function, nativeMessage))
        {
            Result = result;
            Function = function ?? string.Empty;
            NativeMessage = nativeMessage ?? string.Empty;
        }

        private static string Format(FkResult result, string function, string nativeMessage)
        {
            string text = FoleyKitLibrary.ResultString(result);
            string head = string.IsNullOrEmpty(function) ? string.Empty : function + ": ";
            if (string.IsNullOrEmpty(nativeMessage))
                return string.Format("{0}{1} ({2})", head, text, result);
            return string.Format("{0}{1} ({2}): {3}", head, text, result, nativeMessage);
        }

        /// <summary>
        /// Throws for an error result. Must run on the thread that made the call, before any
        /// other FoleyKit call: fk_last_error() is per thread and per call.
        /// </summary>
        internal static void Check(FkResult result, string function)
        {
            if (result != FkResult.Ok)
                throw new FoleyKitException(result, function, Utf8.FromNative(Native.fk_last_error()));
        }
    }
}
